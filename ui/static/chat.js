// Run by the chat panel when it loads, after cite-click.js. The Stop control sends only the turn
// number; each redraw scrolls to the newest message.
element.addEventListener('click', (e) => {
  const s = e.target.closest('button[data-stop]');
  if (!s || !element.contains(s)) return;
  e.preventDefault();
  s.disabled = true;
  s.textContent = 'Stopping…';
  trigger('stop', {stop: Number(s.dataset.stop)});
});
watch('value', () => {
  const c = element.querySelector('.qa-chat');
  if (c) c.scrollTop = c.scrollHeight;
});
