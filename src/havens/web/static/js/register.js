// Registration form: "Add a member" fetches one more member's fields from the server, so the
// form works the same with or without this script (without it, reload with ?members=N).
document.addEventListener("DOMContentLoaded", () => {
  const button = document.getElementById("add-member");
  const count = document.getElementById("member_count");
  const members = document.getElementById("members");
  if (!button || !count || !members) return;
  button.addEventListener("click", () => {
    const index = parseInt(count.value, 10);
    fetch("/people/register/member?index=" + index, { credentials: "same-origin" })
      .then((r) => (r.ok ? r.text() : Promise.reject(new Error(String(r.status)))))
      .then((html) => {
        members.insertAdjacentHTML("beforeend", html);
        count.value = String(index + 1);
        const first = document.getElementById("m" + index + "_given_name_ar");
        if (first) first.focus();
      });
  });
});
