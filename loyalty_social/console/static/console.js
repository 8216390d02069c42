// The console's few behaviours, with no inline script (the CSP allows only this host's files).
// Forms marked data-confirm ask before they submit; "select all" boxes toggle their group;
// a rule form's clause row shows the parts its kind (field, counter, streak) reads.
document.addEventListener("submit", (event) => {
  const message = event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) event.preventDefault();
});
document.addEventListener("change", (event) => {
  const group = event.target.getAttribute("data-select-all");
  if (!group) return;
  document.querySelectorAll(`input[type=checkbox][data-group="${group}"]`).forEach((box) => {
    box.checked = event.target.checked;
  });
});
document.addEventListener("change", (event) => {
  if (!event.target.hasAttribute("data-clause-kind")) return;
  event.target.closest(".clause-row").dataset.kind = event.target.value;
});
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll(".rule-form").forEach((form) => form.classList.add("kinds"));
});
// "Copy" buttons next to a secret shown once: copy the text of the element they name.
document.addEventListener("click", (event) => {
  const id = event.target.getAttribute("data-copy");
  if (!id) return;
  const text = document.getElementById(id).textContent;
  const done = () => { event.target.textContent = "Copied"; };
  if (navigator.clipboard) navigator.clipboard.writeText(text).then(done, () => {});
});
