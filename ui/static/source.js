// Run by the source panel when it loads, after cite-click.js: each new source scrolls its highlighted
// sentence into view.
watch('value', () => {
  const box = element.querySelector('.qa-src-body');
  const h = element.querySelector('.qa-hl');
  if (box && h) box.scrollTop = Math.max(0, h.offsetTop - box.clientHeight / 3);
});
