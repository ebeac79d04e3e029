// Run by the example chips when they load: a click sends only the example's number.
element.addEventListener('click', (e) => {
  const b = e.target.closest('button[data-example]');
  if (b && element.contains(b)) trigger('click', {example: Number(b.dataset.example)});
});
