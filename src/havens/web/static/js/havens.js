// Havens: small progressive enhancements. No inline scripts (the CSP forbids them).
document.addEventListener("submit", (event) => {
  const form = event.target;
  const message = form.getAttribute && form.getAttribute("data-confirm");
  if (message && !window.confirm(message)) event.preventDefault();
});
