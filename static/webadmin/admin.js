// sftpgo-ts web admin: small progressive enhancements (the pages work without them, except adding form rows).
'use strict';
(function () {
  function closest(el, sel) {
    while (el && el.nodeType === 1) { if (el.matches(sel)) return el; el = el.parentElement; }
    return null;
  }

  document.addEventListener('click', function (ev) {
    var t = ev.target;
    var toggle = closest(t, '[data-toggle-menu]');
    if (toggle) {
      var side = document.getElementById('sidebar');
      if (side) {
        var open = side.classList.toggle('open');
        toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
      }
      return;
    }
    var add = closest(t, '[data-add-row]');
    if (add) {
      ev.preventDefault();
      var name = add.getAttribute('data-add-row');
      var tpl = document.getElementById('tpl-' + name);
      var box = document.querySelector('[data-rows="' + name + '"]');
      if (!tpl || !box) return;
      // next index: one more than the highest index used so far
      var next = Number(box.getAttribute('data-next') || box.children.length);
      box.setAttribute('data-next', String(next + 1));
      var html = tpl.innerHTML.split('__IDX__').join(String(next));
      var holder = document.createElement('div');
      holder.innerHTML = html.trim();
      var row = holder.firstElementChild;
      if (row) {
        box.appendChild(row);
        var first = row.querySelector('input, textarea, select');
        if (first) first.focus();
      }
      return;
    }
    var remove = closest(t, '[data-remove-row]');
    if (remove) {
      ev.preventDefault();
      var r = closest(remove, '.row');
      if (r) r.parentNode.removeChild(r);
      return;
    }
    var dismiss = closest(t, '[data-dismiss]');
    if (dismiss) {
      var f = closest(dismiss, '.flash');
      if (f) f.parentNode.removeChild(f);
    }
  });

  document.addEventListener('submit', function (ev) {
    var form = ev.target;
    var msg = form.getAttribute && form.getAttribute('data-confirm');
    if (msg && !window.confirm(msg)) ev.preventDefault();
  });
})();
