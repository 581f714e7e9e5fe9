// Ally360 pages: a little vanilla JS, the pages work without it.
(function () {
  "use strict";

  // Print buttons (receipt, shift report).
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) { window.print(); }
  });

  // One submit per form: a double click on "Charge" sends it once (the server refuses a
  // second sale with the same form anyway).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    // A deletion asks first (the server still refuses what is in use).
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    if (form.dataset.sent) { event.preventDefault(); return; }
    form.dataset.sent = "1";
    window.setTimeout(function () { delete form.dataset.sent; }, 4000);
  });

  // A refused form: the cursor goes to the first field in error, to fix it (a line row's first).
  var refusedField = document.querySelector(
    ".line-row.has-error .line-code, .field.has-error input:not([type=hidden]), .field.has-error select, .field.has-error textarea"
  );
  if (refusedField) { refusedField.focus(); }

  // Counting by scanner: the scanner's Enter after a code goes to that row's quantity, and
  // Enter in a quantity to the next row's code, instead of sending the form half filled.
  var countForm = document.getElementById("count-form");
  if (countForm) {
    var fields = countForm.querySelectorAll(".line-code, .line-qty");
    fields.forEach(function (field, index) {
      field.addEventListener("keydown", function (event) {
        if (event.key !== "Enter") { return; }
        event.preventDefault();
        if (fields[index + 1]) { fields[index + 1].focus(); }
      });
    });
  }

  // A file (a product image, the logo, a document) goes from the browser straight to
  // storage, as the API's clients send it: the page asks for an upload URL (data-start, with
  // the form's [data-upload-field] values), sends the file there, then posts the file's id
  // (this form) so the server checks it and uses it.
  document.querySelectorAll("form[data-direct-upload]").forEach(function (form) {
    var status = form.querySelector("[data-upload-status]");
    var button = form.querySelector("button[type=submit]");
    function failed(message) {
      status.textContent = message || form.dataset.msgFailed;
      delete form.dataset.uploading;
      delete form.dataset.sent;
      button.disabled = false;
    }
    // The server's own message when it answered JSON; ours for anything else (a signed-out
    // session's login page, a network failure).
    function refusal(answer) {
      var json = (answer.headers.get("Content-Type") || "").indexOf("application/json") === 0;
      return json ? answer.json().then(function (body) { return body.error; }) : Promise.resolve("");
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (form.dataset.uploading) { return; }  // a double click sends one file
      var file = form.querySelector("input[type=file]").files[0];
      if (!file) { failed(form.dataset.msgNoFile); return; }
      form.dataset.uploading = "1";
      button.disabled = true;
      status.textContent = form.dataset.msgSending;
      var start = new FormData();
      start.append("name", file.name);
      start.append("content_type", file.type);
      start.append("size", String(file.size));
      form.querySelectorAll("[data-upload-field]").forEach(function (field) {
        start.append(field.name, field.value);
      });
      var csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
      fetch(form.dataset.start, {
        method: "POST", body: start, headers: { "X-CSRFToken": csrf }, credentials: "same-origin"
      }).then(function (answer) {
        if (!answer.ok) { return refusal(answer).then(failed); }
        return answer.json().then(function (body) {
          var upload = new FormData();
          Object.keys(body.upload.fields).forEach(function (name) {
            upload.append(name, body.upload.fields[name]);
          });
          upload.append("file", file);
          return fetch(body.upload.url, { method: "POST", body: upload }).then(function (sent) {
            if (!sent.ok) { failed(); return; }
            form.querySelector("[name=file]").value = body.file;
            form.submit();
          });
        });
      }).catch(function () { failed(); });
    });
  });

  var saleForm = document.getElementById("sale-form");
  if (!saleForm) { return; }

  // Focus a row the server refused (an unknown code), to fix it: the next scan would be refused
  // with it. Otherwise the first empty product row, ready for the scanner.
  var refusedCode = saleForm.querySelector(".line-row.has-error .line-code");
  if (refusedCode) {
    refusedCode.focus();
    refusedCode.select();
  } else if (!refusedField) {
    var codes = saleForm.querySelectorAll(".line-code");
    for (var i = 0; i < codes.length; i++) {
      if (!codes[i].value) { codes[i].focus(); break; }
    }
  }

  // Enter in the cash field charges (the default button, pressed by Enter elsewhere, updates
  // the total after a scan).
  var cash = saleForm.querySelector(".tender-cash");
  var charge = document.getElementById("charge");
  if (cash && charge) {
    cash.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); charge.click(); }
    });
  }

  // The change as the cashier types the cash received (the server computes the real one): the
  // cash less what the card, transfer or wallet amount leaves of the total. Only while the total
  // shown is the lines' own: an edited line hides it until the total is updated (it showed the
  // change of the total before the edit).
  var totalCell = saleForm.querySelector("[data-total]");
  var preview = document.getElementById("change-preview");
  var other = saleForm.querySelector("[name=other_amount]");
  var lineRows = document.getElementById("line-rows");
  if (cash && totalCell && preview) {
    var total = parseFloat(totalCell.dataset.total);
    var linesEdited = false;
    var show = function () {
      var given = parseFloat(cash.value);
      var paidOtherwise = other ? parseFloat(other.value || "0") : 0;
      var due = total - (isNaN(paidOtherwise) ? 0 : paidOtherwise);
      if (linesEdited || isNaN(given) || due <= 0 || given < due) { preview.hidden = true; return; }
      preview.hidden = false;
      preview.querySelector("strong").textContent = "$ " + (given - due).toLocaleString(document.documentElement.lang || "es-CO", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    };
    cash.addEventListener("input", show);
    if (other) { other.addEventListener("input", show); }
    if (lineRows) {
      lineRows.addEventListener("input", function () { linesEdited = true; show(); });
    }
    show();
  }
})();
