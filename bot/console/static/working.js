// Long work (checking or importing a directory, building a report): the form shows that it is
// working until the server answers, and cannot be sent twice.
(function () {
  "use strict";
  var forms = document.querySelectorAll("form[data-working]");
  Array.prototype.forEach.call(forms, function (form) {
    form.addEventListener("submit", function () {
      var bar = document.createElement("progress");
      bar.className = "working";
      var note = document.createElement("span");
      note.textContent = form.getAttribute("data-working");
      form.appendChild(bar);
      form.appendChild(note);
      Array.prototype.forEach.call(form.querySelectorAll("button"), function (b) { b.disabled = true; });
    });
  });
})();
