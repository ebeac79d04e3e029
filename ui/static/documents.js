// Run by the documents panel when it loads. A Remove control asks first, then sends only the row's number.
element.addEventListener('click', (e) => {
  const b = e.target.closest('button[data-remove]');
  if (!b || !element.contains(b)) return;
  e.preventDefault();
  if (!window.confirm(`Remove ${b.dataset.name} from the articles? Answers will no longer cite it.`)) return;
  b.disabled = true;
  b.textContent = 'Removing…';
  trigger('clear', {remove: Number(b.dataset.remove)});
});
