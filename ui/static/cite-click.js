// Run by the chat and the source panel when they load (Gradio's js_on_load: `element`, `trigger`).
// A click on a marker sends only the turn and the marker number.
element.addEventListener('click', (e) => {
  const b = e.target.closest('button[data-k]');
  if (!b || !element.contains(b)) return;
  e.preventDefault();
  element.querySelectorAll('.qa-cite.qa-active').forEach((x) => x.classList.remove('qa-active'));
  b.classList.add('qa-active');
  trigger('click', {turn: Number(b.dataset.turn), k: Number(b.dataset.k)});
});
