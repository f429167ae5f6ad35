/*
 * The web client's page script (served from this server, no CDN): select-all,
 * confirmations, "select something first", and uploads with one request per
 * file so each file has its own progress bar (button or drag and drop).
 * Everything also works as plain forms when scripts are off.
 */
(function () {
  'use strict';
  var csrf = document.body.getAttribute('data-csrf') || '';

  document.addEventListener('click', function (ev) {
    var el = ev.target.closest ? ev.target.closest('[data-confirm],[data-needs-selection]') : null;
    if (!el) return;
    if (el.hasAttribute('data-needs-selection')) {
      var form = el.form;
      if (form && form.querySelectorAll('input[name="files"]:checked').length === 0) {
        ev.preventDefault();
        window.alert('Select at least one item first.');
        return;
      }
    }
    if (el.hasAttribute('data-confirm') && !window.confirm(el.getAttribute('data-confirm'))) ev.preventDefault();
  });

  var all = document.getElementById('select-all');
  if (all) {
    all.addEventListener('change', function () {
      var boxes = document.querySelectorAll('input[name="files"]');
      for (var i = 0; i < boxes.length; i++) boxes[i].checked = all.checked;
    });
  }

  var zone = document.getElementById('drop-zone');
  var input = document.getElementById('upload-input');
  var list = document.getElementById('upload-list');
  if (!zone || !input || !list) return;
  var url = zone.getAttribute('data-upload-url');
  var tusUrl = zone.getAttribute('data-tus-url');
  var tusDir = zone.getAttribute('data-dir') || '/';
  var CHUNK = 16 * 1024 * 1024;
  var MAX_RETRIES = 8;

  function row(file) {
    var li = document.createElement('li');
    li.className = 'upload';
    li.setAttribute('data-file', file.name);
    li.setAttribute('data-state', 'queued');
    var name = document.createElement('span');
    name.className = 'upload-name';
    name.textContent = file.name;
    var bar = document.createElement('progress');
    bar.max = 100;
    bar.value = 0;
    var status = document.createElement('span');
    status.className = 'upload-status';
    status.textContent = 'waiting';
    li.appendChild(name);
    li.appendChild(bar);
    li.appendChild(status);
    list.appendChild(li);
    return { li: li, bar: bar, status: status };
  }

  function send(file, ui) {
    return new Promise(function (resolve) {
      var xhr = new XMLHttpRequest();
      var data = new FormData();
      data.append('filenames', file, file.name);
      xhr.open('POST', url);
      xhr.setRequestHeader('X-CSRF-Token', csrf);
      xhr.setRequestHeader('Accept', 'application/json');
      ui.li.setAttribute('data-state', 'uploading');
      xhr.upload.addEventListener('progress', function (e) {
        if (!e.lengthComputable) return;
        var pct = Math.round((e.loaded / e.total) * 100);
        ui.bar.value = pct;
        ui.status.textContent = pct + '%';
        ui.li.setAttribute('data-progress', String(pct));
      });
      xhr.addEventListener('load', function () {
        var ok = xhr.status >= 200 && xhr.status < 300;
        var msg = 'failed';
        try { msg = JSON.parse(xhr.responseText).error || msg; } catch (e) { /* not JSON */ }
        ui.bar.value = ok ? 100 : ui.bar.value;
        ui.status.textContent = ok ? 'done' : 'error: ' + msg;
        ui.li.setAttribute('data-state', ok ? 'done' : 'error');
        resolve(ok);
      });
      xhr.addEventListener('error', function () {
        ui.status.textContent = 'error: connection lost';
        ui.li.setAttribute('data-state', 'error');
        resolve(false);
      });
      xhr.send(data);
    });
  }

  function b64(s) { return window.btoa(unescape(encodeURIComponent(s))); }

  /* one tus request; resolves with the XHR (status 0 when the connection failed) */
  function tusRequest(method, target, headers, body, onProgress) {
    return new Promise(function (resolve) {
      var xhr = new XMLHttpRequest();
      xhr.open(method, target);
      xhr.setRequestHeader('Tus-Resumable', '1.0.0');
      xhr.setRequestHeader('X-CSRF-Token', csrf);
      Object.keys(headers).forEach(function (k) { xhr.setRequestHeader(k, headers[k]); });
      if (onProgress) xhr.upload.addEventListener('progress', function (e) { onProgress(e.loaded); });
      xhr.addEventListener('load', function () { resolve(xhr); });
      xhr.addEventListener('error', function () { resolve(xhr); });
      xhr.addEventListener('abort', function () { resolve(xhr); });
      xhr.send(body);
    });
  }

  /* Resumable upload: create, then PATCH chunks; after a failure ask the server where it stopped and go on from there. */
  function sendResumable(file, ui) {
    var size = file.size;
    var show = function (done) {
      var pct = size === 0 ? 100 : Math.min(100, Math.round((done / size) * 100));
      ui.bar.value = pct;
      ui.status.textContent = pct + '%';
      ui.li.setAttribute('data-progress', String(pct));
    };
    var fail = function (msg) {
      ui.status.textContent = 'error: ' + msg;
      ui.li.setAttribute('data-state', 'error');
      return false;
    };
    ui.li.setAttribute('data-state', 'uploading');
    return tusRequest('POST', tusUrl, { 'Upload-Length': String(size), 'Upload-Metadata': 'filename ' + b64(file.name) + ',path ' + b64(tusDir) }, null)
      .then(function (created) {
        if (created.status !== 201) return fail(created.status === 0 ? 'connection lost' : 'refused (' + created.status + ')');
        var target = created.getResponseHeader('Location');
        var offset = 0;
        var retries = 0;
        function step() {
          if (offset >= size) {
            ui.bar.value = 100;
            ui.status.textContent = 'done';
            ui.li.setAttribute('data-state', 'done');
            return true;
          }
          var end = Math.min(size, offset + CHUNK);
          return tusRequest('PATCH', target, { 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': String(offset) }, file.slice(offset, end),
            function (loaded) { show(offset + loaded); })
            .then(function (xhr) {
              if (xhr.status === 204) {
                offset = Number(xhr.getResponseHeader('Upload-Offset'));
                retries = 0;
                return step();
              }
              if (xhr.status !== 0 && xhr.status !== 409 && xhr.status < 500) return fail('refused (' + xhr.status + ')');
              if (++retries > MAX_RETRIES) return fail('connection lost');
              ui.status.textContent = 'reconnecting';
              ui.li.setAttribute('data-retries', String(retries));
              return new Promise(function (r) { setTimeout(r, Math.min(8000, 500 * retries)); })
                .then(function () { return tusRequest('HEAD', target, {}, null); })
                .then(function (head) {
                  if (head.status === 200) offset = Number(head.getResponseHeader('Upload-Offset'));
                  else if (head.status !== 0) return fail('the upload was lost (' + head.status + ')');
                  return step();
                });
            });
        }
        return step();
      });
  }

  function uploadAll(files) {
    var items = [];
    for (var i = 0; i < files.length; i++) items.push({ file: files[i], ui: row(files[i]) });
    var ok = 0;
    var chain = Promise.resolve();
    items.forEach(function (it) {
      chain = chain.then(function () { return tusUrl ? sendResumable(it.file, it.ui) : send(it.file, it.ui); }).then(function (good) { if (good) ok++; });
    });
    chain.then(function () {
      var done = document.createElement('li');
      done.className = 'upload-summary';
      done.id = 'upload-summary';
      done.textContent = ok + ' of ' + items.length + ' uploaded. ';
      var a = document.createElement('a');
      a.href = window.location.href;
      a.id = 'upload-refresh';
      a.textContent = 'Refresh';
      done.appendChild(a);
      list.appendChild(done);
    });
  }

  input.addEventListener('change', function () {
    if (input.files && input.files.length > 0) uploadAll(input.files);
    input.value = '';
  });
  ['dragenter', 'dragover'].forEach(function (t) {
    zone.addEventListener(t, function (e) { e.preventDefault(); zone.classList.add('over'); });
  });
  ['dragleave', 'drop'].forEach(function (t) {
    zone.addEventListener(t, function () { zone.classList.remove('over'); });
  });
  zone.addEventListener('drop', function (e) {
    e.preventDefault();
    if (e.dataTransfer && e.dataTransfer.files.length > 0) uploadAll(e.dataTransfer.files);
  });
})();
