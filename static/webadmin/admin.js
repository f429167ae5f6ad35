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

  // forms with per-kind sections (storage backends, event action types, rule triggers): only the chosen kind's
  // fieldsets are shown; without script every section stays visible and the server reads only the chosen one
  function showChosen(select) {
    var group = select.getAttribute('data-show-section');
    var boxes = document.querySelectorAll('fieldset[data-section="' + group + '"]');
    for (var i = 0; i < boxes.length; i++) {
      var kinds = (boxes[i].getAttribute('data-kinds') || '').split(' ');
      boxes[i].hidden = kinds.indexOf(select.value) < 0;
    }
  }
  var selects = document.querySelectorAll('select[data-show-section]');
  for (var i = 0; i < selects.length; i++) showChosen(selects[i]);
  document.addEventListener('change', function (ev) {
    var t = ev.target;
    if (t && t.matches && t.matches('select[data-show-section]')) showChosen(t);
  });

  document.addEventListener('submit', function (ev) {
    var form = ev.target;
    var msg = form.getAttribute && form.getAttribute('data-confirm');
    if (msg && !window.confirm(msg)) ev.preventDefault();
  });
})();
