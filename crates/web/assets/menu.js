// On a phone the menu of the CPTS's missions starts folded into one line ("Menu"), so that the page itself
// starts on the first screen; on a wider screen it stays open. Without JavaScript it is open everywhere.
(function () {
  var menu = document.currentScript && document.currentScript.previousElementSibling;
  if (menu && menu.tagName === 'DETAILS' && window.matchMedia('(max-width: 40rem)').matches) {
    menu.open = false;
  }
})();
