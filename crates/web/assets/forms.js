// After a refused form, the server's summary (role="alert", id="erreurs") names each field in error by its
// label. Each field so named is marked aria-invalid and described by the summary, and the focus goes to the
// first one, so that a keyboard or screen-reader user lands where the correction is. Without JavaScript the
// summary is still announced and names the fields.
document.addEventListener('DOMContentLoaded', function () {
  var summary = document.getElementById('erreurs');
  if (!summary) return;
  var named = [];
  summary.querySelectorAll('li').forEach(function (item) {
    var strong = item.querySelector('strong');
    var text = strong ? strong.textContent : item.textContent.split(' : ')[0];
    named.push(text.trim().toLowerCase());
  });
  var first = null;
  document.querySelectorAll('main label[for]').forEach(function (label) {
    var text = label.textContent.trim().toLowerCase();
    var matches = named.some(function (name) {
      return name && (text === name || text.indexOf(name + ' ') === 0);
    });
    var field = matches && document.getElementById(label.htmlFor);
    if (!field) return;
    field.setAttribute('aria-invalid', 'true');
    var described = (field.getAttribute('aria-describedby') || '').split(' ');
    if (described.indexOf('erreurs') < 0) described.push('erreurs');
    field.setAttribute('aria-describedby', described.join(' ').trim());
    if (!first) first = field;
  });
  var target = first || summary;
  if (!summary.hasAttribute('tabindex') && !first) summary.setAttribute('tabindex', '-1');
  target.focus();
});

// A button marked data-print prints the page (the liaison sheet): the print stylesheet keeps the sheet only.
document.addEventListener('click', function (event) {
  var target = event.target;
  if (target && target.closest && target.closest('[data-print]')) window.print();
});
