/* 基层专家服务 — the H5 web chat page. Plain ES2017, no framework, no build step.
 *
 * Served with CSP `default-src 'self'`: no inline scripts, no style attributes, no eval.
 * Message text is only ever put on the page with textContent (never innerHTML), so a message
 * holding `<script>` or `<img onerror>` shows as text.
 */
(function () {
  'use strict';

  var MAX_PHOTO_BYTES = 8 * 1024 * 1024;
  var RECONNECT_MIN_MS = 2000;
  var RECONNECT_MAX_MS = 30000;
  var SAFETY_SYNC_MS = 45000;
  var TOAST_MS = 2600;
  var CODE_WAIT_SECONDS = 60;

  var T = {
    phoneEmpty: '请先输入手机号。',
    phoneBad: '请输入 11 位大陆手机号（1 开头），请检查一下。',
    codeEmpty: '请输入短信里的验证码。',
    codeBad: '验证码是 6 位数字，请检查一下。',
    codeSent: '验证码已发送，请查看短信。',
    sending: '发送中…',
    getCode: '获取验证码',
    getCodeAgain: '重新获取',
    login: '登录',
    loggingIn: '登录中…',
    loginFailed: '登录没有成功，请再试一次。',
    expired: '登录已过期，请重新登录。',
    network: '网络不好，请检查网络后再试。',
    sendFailed: '网络不好，没有发出去，请稍后再试。',
    server: '服务器出了点问题，请稍后再试。',
    tooMany: '操作太频繁了，请稍后再试。',
    photoTooBig: '照片太大了（超过 8 MB），请换一张或压缩后再发。',
    notPhoto: '请选择一张照片。',
    noPreview: '这张照片无法预览，但可以发送。',
    photoSend: '发送照片',
    connecting: '连接中…',
    offline: '网络断开，正在重连…',
    logoutFailed: '退出没有成功，请检查网络后再试。',
    bootFailed: '网络不好，页面没有打开。',
    photoLabel: '[照片]',
    voiceLabel: '[语音]',
    photoBroken: '照片加载失败',
    viewPhoto: '查看大图',
    hintTitle: '您好！这里可以向农业专家提问。',
    hintBody: '在下面的输入框写下您遇到的问题，点「发送」就行。比如：水稻叶子发黄，有褐色斑点，怎么办？\n' +
      '说清楚种的是什么、在哪个县、出现多久了，专家能回答得更准。\n' +
      '也可以点左下角的相机按钮，拍张照片发过来。'
  };

  function $(id) { return document.getElementById(id); }

  var el = {};

  var state = {
    csrf: '',
    signedIn: false,
    gen: 0,                 // bumped on every sign-in / sign-out; stale async results are ignored
    maxRev: 0,
    byId: new Map(),        // message id -> record
    loaded: false,
    es: null,
    reconnectTimer: null,
    reconnectDelay: RECONNECT_MIN_MS,
    safetyTimer: null,
    syncing: false,
    syncAgain: false,
    stick: true,            // keep the list scrolled to the newest message
    sending: false,
    codeTimer: null,
    codeBusy: false,
    codeSentOnce: false,
    loginBusy: false,
    photoFile: null,
    photoUrl: null,
    photoXhr: null,
    viewerPushed: false,
    toastTimer: null
  };

  /* ------------------------------------------------------------------ helpers */

  function NetworkError() { this.name = 'NetworkError'; }

  function clearChildren(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function make(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function pad2(n) { return n < 10 ? '0' + n : String(n); }

  function parseTime(iso) {
    if (typeof iso !== 'string' || !iso) return null;
    var s = iso.trim().replace(' ', 'T').replace(/(\.\d{3})\d+/, '$1');
    if (/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?$/.test(s)) s += 'Z';  // no zone given: the server speaks UTC
    var d = new Date(s);
    return isNaN(d.getTime()) ? null : d;
  }

  function sameDay(a, b) {
    return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
  }

  function formatTime(iso) {
    var d = parseTime(iso);
    if (!d) return '';
    var now = new Date();
    var hm = pad2(d.getHours()) + ':' + pad2(d.getMinutes());
    if (sameDay(d, now)) return hm;
    var yesterday = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1);
    if (sameDay(d, yesterday)) return '昨天 ' + hm;
    var md = (d.getMonth() + 1) + '月' + d.getDate() + '日 ' + hm;
    return d.getFullYear() === now.getFullYear() ? md : d.getFullYear() + '年' + md;
  }

  function safeMediaUrl(url) {
    if (typeof url !== 'string' || !url) return null;
    try {
      var u = new URL(url, window.location.href);
      if (u.origin !== window.location.origin) return null;
      if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
      return u.href;
    } catch (e) {
      return null;
    }
  }

  function errorText(result) {
    var data = result && result.data;
    if (data && typeof data.error === 'string' && data.error) return data.error;
    var status = result ? result.status : 0;
    if (status === 413) return T.photoTooBig;
    if (status === 429) return T.tooMany;
    if (status >= 500) return T.server;
    return T.server;
  }

  /* ------------------------------------------------------------------ server calls */

  async function readJson(res) {
    try {
      var text = await res.text();
      return text ? JSON.parse(text) : null;
    } catch (e) {
      return null;
    }
  }

  async function getMe() {
    var res;
    try {
      res = await fetch('/api/me', { credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'application/json' } });
    } catch (e) {
      throw new NetworkError();
    }
    var data = await readJson(res);
    if (!res.ok || !data) throw new NetworkError();
    if (typeof data.csrf === 'string') state.csrf = data.csrf;
    return data;
  }

  /* api(method, path, body, opts) -> {status, ok, data}; throws NetworkError when nothing came back.
   * opts.auth === false: a 401 is an ordinary answer (the sign-in calls), not "signed out". */
  async function api(method, path, body, opts) {
    opts = opts || {};
    var headers = { Accept: 'application/json' };
    var init = { method: method, headers: headers, credentials: 'same-origin', cache: 'no-store' };
    if (method !== 'GET') headers['X-CSRF-Token'] = state.csrf;
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    var res;
    try {
      res = await fetch(path, init);
    } catch (e) {
      throw new NetworkError();
    }
    var data = await readJson(res);
    var result = { status: res.status, ok: res.ok, data: data };
    if (res.status === 401 && opts.auth !== false) {
      signedOut(T.expired);
      return result;
    }
    if (res.status === 403 && method !== 'GET' && !opts.retried) {
      // The CSRF token may have changed (a sign-in in another tab): fetch it again and retry once.
      var old = state.csrf;
      try {
        await getMe();
      } catch (e) {
        return result;
      }
      if (state.csrf && state.csrf !== old) {
        return api(method, path, body, Object.assign({}, opts, { retried: true }));
      }
    }
    return result;
  }

  function uploadPhoto(file, caption, onProgress) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      state.photoXhr = xhr;
      xhr.open('POST', '/api/photo');
      xhr.setRequestHeader('X-CSRF-Token', state.csrf);
      xhr.setRequestHeader('Accept', 'application/json');
      if (xhr.upload) {
        xhr.upload.addEventListener('progress', function (e) {
          if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total);
        });
      }
      xhr.addEventListener('load', function () {
        state.photoXhr = null;
        var data = null;
        try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
        resolve({ status: xhr.status, ok: xhr.status >= 200 && xhr.status < 300, data: data });
      });
      xhr.addEventListener('error', function () { state.photoXhr = null; reject(new NetworkError()); });
      xhr.addEventListener('timeout', function () { state.photoXhr = null; reject(new NetworkError()); });
      xhr.addEventListener('abort', function () { state.photoXhr = null; resolve({ status: 0, ok: false, aborted: true, data: null }); });
      var form = new FormData();
      form.append('photo', file, file.name || 'photo.jpg');
      if (caption) form.append('caption', caption);
      xhr.send(form);
    });
  }

  /* ------------------------------------------------------------------ screens */

  function showScreen(name) {
    el.boot.hidden = name !== 'boot';
    el.loginScreen.hidden = name !== 'login';
    el.chatScreen.hidden = name !== 'chat';
  }

  async function boot() {
    el.bootText.textContent = '正在打开…';
    el.bootRetry.hidden = true;
    showScreen('boot');
    var me;
    try {
      me = await getMe();
    } catch (e) {
      el.bootText.textContent = T.bootFailed;
      el.bootRetry.hidden = false;
      return;
    }
    if (me.signed_in) enterChat(me);
    else showLogin('');
  }

  /* ------------------------------------------------------------------ sign-in */

  function loginMessage(text, kind) {
    el.loginMessage.textContent = text || '';
    el.loginMessage.className = 'form-message' + (kind ? ' ' + kind : '');
  }

  function digitsOnly(input, max) {
    var v = input.value;
    var d = v.replace(/\D+/g, '');
    if (d.length > max) d = d.slice(0, max);
    if (d !== v) input.value = d;
  }

  // Pasting "139 1234 5678" or "+86 139…" would be cut short by maxlength before the input
  // event could clean it: take the digits from the clipboard instead.
  function pasteDigits(input, max) {
    return function (ev) {
      var data = ev.clipboardData || window.clipboardData;
      if (!data) return;
      var d = String(data.getData('text') || '').replace(/\D+/g, '');
      if (input === el.phone && d.length === 13 && /^86/.test(d)) d = d.slice(2);
      if (!d) return;
      ev.preventDefault();
      input.value = d.slice(0, max);
    };
  }

  function checkPhone(phone) {
    if (!phone) return T.phoneEmpty;
    if (!/^1[3-9]\d{9}$/.test(phone)) return T.phoneBad;
    return '';
  }

  function showLogin(message) {
    showScreen('login');
    loginMessage(message || '', message ? 'error' : '');
    el.code.value = '';
    setLoginBusy(false);
    document.title = '基层专家服务';
  }

  function setCodeButton() {
    if (state.codeTimer) return;
    el.sendCode.disabled = state.codeBusy;
    el.sendCode.textContent = state.codeBusy ? T.sending : (state.codeSentOnce ? T.getCodeAgain : T.getCode);
  }

  function startCountdown() {
    stopCountdown();
    var end = Date.now() + CODE_WAIT_SECONDS * 1000;
    var tick = function () {
      var left = Math.ceil((end - Date.now()) / 1000) - 1;
      if (left <= 0) {
        stopCountdown();
        setCodeButton();
        return;
      }
      el.sendCode.disabled = true;
      el.sendCode.textContent = T.getCodeAgain + '(' + left + ')';
    };
    state.codeTimer = setInterval(tick, 1000);
    tick();
  }

  function stopCountdown() {
    if (state.codeTimer) clearInterval(state.codeTimer);
    state.codeTimer = null;
  }

  async function sendCode() {
    if (state.codeBusy || state.codeTimer) return;
    digitsOnly(el.phone, 11);
    var phone = el.phone.value;
    var problem = checkPhone(phone);
    if (problem) {
      loginMessage(problem, 'error');
      el.phone.focus();
      return;
    }
    state.codeBusy = true;
    setCodeButton();
    loginMessage('', '');
    try {
      var r = await api('POST', '/api/login/code', { phone: phone }, { auth: false });
      state.codeBusy = false;
      if (r.ok) {
        state.codeSentOnce = true;
        loginMessage((r.data && r.data.message) || T.codeSent, 'ok');
        startCountdown();
        el.code.focus();
      } else {
        loginMessage(errorText(r), 'error');
        setCodeButton();
      }
    } catch (e) {
      state.codeBusy = false;
      loginMessage(T.network, 'error');
      setCodeButton();
    }
  }

  function setLoginBusy(busy) {
    state.loginBusy = busy;
    el.login.disabled = busy;
    el.login.textContent = busy ? T.loggingIn : T.login;
  }

  async function login(ev) {
    if (ev) ev.preventDefault();
    if (state.loginBusy) return;
    digitsOnly(el.phone, 11);
    digitsOnly(el.code, 6);
    var phone = el.phone.value;
    var code = el.code.value;
    var problem = checkPhone(phone);
    if (problem) {
      loginMessage(problem, 'error');
      el.phone.focus();
      return;
    }
    if (!code) {
      loginMessage(T.codeEmpty, 'error');
      el.code.focus();
      return;
    }
    if (!/^\d{6}$/.test(code)) {
      loginMessage(T.codeBad, 'error');
      el.code.focus();
      return;
    }
    setLoginBusy(true);
    loginMessage('', '');
    try {
      var r = await api('POST', '/api/login/verify', { phone: phone, code: code }, { auth: false });
      if (!r.ok) {
        setLoginBusy(false);
        loginMessage(errorText(r), 'error');
        return;
      }
      var me = await getMe();   // the CSRF token changes at sign-in
      setLoginBusy(false);
      if (me.signed_in) {
        stopCountdown();
        state.codeSentOnce = false;
        setCodeButton();
        loginMessage('', '');
        enterChat(me);
      } else {
        loginMessage(T.loginFailed, 'error');
      }
    } catch (e) {
      setLoginBusy(false);
      loginMessage(T.network, 'error');
    }
  }

  /* ------------------------------------------------------------------ chat: enter / leave */

  function resetChat() {
    state.gen += 1;
    closeEvents();
    clearTimeout(state.reconnectTimer);
    state.reconnectTimer = null;
    clearInterval(state.safetyTimer);
    state.safetyTimer = null;
    state.reconnectDelay = RECONNECT_MIN_MS;
    state.maxRev = 0;
    state.byId = new Map();
    state.loaded = false;
    state.syncing = false;
    state.syncAgain = false;
    state.stick = true;
    state.sending = false;
    clearChildren(el.messages);
    el.newMessages.hidden = true;
    el.text.value = '';
    autoGrow();
    el.send.disabled = false;
    hideComposerError();
    setStatus(null);
    closePhotoSheet(false);
    closeViewer(false);
  }

  function enterChat(me) {
    resetChat();
    state.signedIn = true;
    el.who.textContent = me.name || me.phone || '';
    showScreen('chat');
    updateViewport();
    autoGrow();   // now that it has a size (an empty box is as tall as its placeholder)
    setStatus('connecting');
    sync();
    connectEvents();
    state.safetyTimer = setInterval(function () {
      if (document.visibilityState !== 'hidden') sync();
    }, SAFETY_SYNC_MS);
    if (desktopEnter()) el.text.focus();
  }

  function signedOut(message) {
    if (!state.signedIn) return;
    state.signedIn = false;
    resetChat();
    showLogin(message);
    getMe().catch(function () {});   // a fresh CSRF token for signing in again
  }

  async function logout(ev) {
    if (ev) ev.preventDefault();
    try {
      await api('POST', '/api/logout', undefined, { auth: false });
    } catch (e) {
      toast(T.logoutFailed);
      return;
    }
    state.signedIn = false;
    resetChat();
    showLogin('');
    try { await getMe(); } catch (e) { /* the next call will tell */ }
  }

  /* ------------------------------------------------------------------ live updates */

  function setStatus(kind) {
    if (!kind) {
      el.status.hidden = true;
      el.status.textContent = '';
      return;
    }
    el.status.textContent = kind === 'connecting' ? T.connecting : T.offline;
    el.status.className = 'status ' + kind;
    el.status.hidden = false;
  }

  function closeEvents() {
    if (state.es) {
      state.es.close();
      state.es = null;
    }
  }

  function connectEvents() {
    closeEvents();
    clearTimeout(state.reconnectTimer);
    state.reconnectTimer = null;
    if (!state.signedIn) return;
    if (typeof window.EventSource !== 'function') {   // the safety sync polls instead
      setStatus(null);
      return;
    }
    var gen = state.gen;
    var es = new EventSource('/api/events');
    state.es = es;
    es.addEventListener('open', function () {
      if (state.es !== es) return;
      state.reconnectDelay = RECONNECT_MIN_MS;
      setStatus(null);
      sync();   // whatever happened while the stream was down
    });
    es.addEventListener('message', function (ev) {
      if (state.es !== es || gen !== state.gen) return;
      var m;
      try {
        m = JSON.parse(ev.data);
      } catch (e) {
        return;
      }
      applyMessages([m]);
    });
    es.addEventListener('error', function () {
      if (state.es !== es) return;
      setStatus('offline');
      if (es.readyState === 2) {   // CLOSED: the server said no (401?) or answered oddly; it won't retry itself
        es.close();
        state.es = null;
        checkThenReconnect(gen);
      }
    });
  }

  async function checkThenReconnect(gen) {
    try {
      var me = await getMe();
      if (gen !== state.gen) return;
      if (!me.signed_in) {
        signedOut(T.expired);
        return;
      }
    } catch (e) {
      if (gen !== state.gen) return;
    }
    scheduleReconnect();
  }

  function scheduleReconnect() {
    clearTimeout(state.reconnectTimer);
    var delay = state.reconnectDelay;
    state.reconnectDelay = Math.min(delay * 2, RECONNECT_MAX_MS);
    state.reconnectTimer = setTimeout(connectEvents, delay);
  }

  // force: open a new stream even if the old one looks open (after the network came back or the
  // page slept in the background, an old connection may be dead without knowing it).
  function ensureConnected(force) {
    if (!state.signedIn) return;
    if (force === true || !state.es || state.es.readyState === 2) {
      state.reconnectDelay = RECONNECT_MIN_MS;
      if (!state.es || state.es.readyState !== 1) setStatus('offline');
      connectEvents();
    }
    sync();
  }

  async function sync() {
    if (!state.signedIn) return;
    if (state.syncing) {
      state.syncAgain = true;
      return;
    }
    var gen = state.gen;
    state.syncing = true;
    try {
      var rounds = 0;
      do {
        state.syncAgain = false;
        var before = state.maxRev;
        var r = await api('GET', '/api/messages?after=' + encodeURIComponent(before));
        if (gen !== state.gen) return;
        if (!r.ok || !r.data) break;
        var list = Array.isArray(r.data.messages) ? r.data.messages : [];
        applyMessages(list);
        if (!state.loaded) {
          state.loaded = true;
          if (state.byId.size === 0) showHint();
          scrollToBottom(false);
        }
        // A long gap comes in pages: ask again while the server is ahead and we made progress.
        if (list.length && typeof r.data.rev === 'number' && r.data.rev > state.maxRev && state.maxRev > before) {
          state.syncAgain = true;
        }
        rounds += 1;
      } while (state.syncAgain && rounds < 50);
    } catch (e) {
      if (gen === state.gen && !state.es) setStatus('offline');
    } finally {
      if (gen === state.gen) state.syncing = false;
    }
  }

  /* ------------------------------------------------------------------ messages */

  function isNearBottom() {
    var m = el.messages;
    return m.scrollHeight - m.scrollTop - m.clientHeight < 60;
  }

  function scrollToBottom(smooth) {
    var m = el.messages;
    if (smooth && typeof m.scrollTo === 'function') {
      m.scrollTo({ top: m.scrollHeight, behavior: 'smooth' });
    } else {
      m.scrollTop = m.scrollHeight;
    }
    state.stick = true;
    el.newMessages.hidden = true;
  }

  function keepBottom() {
    if (state.stick && !el.chatScreen.hidden) el.messages.scrollTop = el.messages.scrollHeight;
  }

  function applyMessages(list) {
    var stick = state.stick;
    var added = 0;
    var mine = false;
    for (var i = 0; i < list.length; i++) {
      var m = list[i];
      if (!m || typeof m.id !== 'number') continue;
      var rev = typeof m.rev === 'number' ? m.rev : 0;
      if (rev > state.maxRev) state.maxRev = rev;
      var known = state.byId.get(m.id);
      if (known) {
        if (rev > known.rev) {
          known.rev = rev;
          renderMessage(known, m);
        }
        continue;
      }
      insertMessage(m, rev);
      added += 1;
      if (m.from === 'me') mine = true;
    }
    if (!added && !list.length) return;
    if (stick || mine) {
      scrollToBottom(false);
    } else if (added && state.loaded) {
      el.newMessages.hidden = false;
    }
  }

  function insertMessage(m, rev) {
    removeHint();
    var node = make('div', 'msg ' + (m.from === 'me' ? 'me' : 'bot'));
    node.dataset.id = String(m.id);
    var bubble = make('div', 'bubble');
    var media = make('div', 'media');
    media.hidden = true;
    var text = make('div', 'text');
    var time = make('time', 'time');
    bubble.appendChild(media);
    bubble.appendChild(text);
    bubble.appendChild(time);
    var choices = make('div', 'choices');
    choices.hidden = true;
    node.appendChild(bubble);
    node.appendChild(choices);
    var rec = { id: m.id, rev: rev, node: node, media: media, mediaKey: '', text: text, time: time,
                choices: choices, pressing: false };
    renderMessage(rec, m);
    state.byId.set(m.id, rec);

    // Keep the list ordered by id (the fast path is "newest last").
    var list = el.messages;
    var last = list.lastElementChild;
    if (!last || !last.dataset.id || Number(last.dataset.id) < m.id) {
      list.appendChild(node);
      return;
    }
    var child = list.firstElementChild;
    while (child) {
      if (child.dataset.id && Number(child.dataset.id) > m.id) {
        list.insertBefore(node, child);
        return;
      }
      child = child.nextElementSibling;
    }
    list.appendChild(node);
  }

  function renderMessage(rec, m) {
    var text = typeof m.text === 'string' ? m.text : '';
    var media = m.media === 'photo' || m.media === 'voice' ? m.media : null;
    var url = media ? safeMediaUrl(m.media_url) : null;
    var key = media ? media + '|' + (url || '') : '';
    if (key !== rec.mediaKey) {
      rec.mediaKey = key;
      clearChildren(rec.media);
      if (media) rec.media.appendChild(buildMedia(media, url));
      rec.media.hidden = !media;
    }
    rec.text.textContent = text;
    rec.text.hidden = !text;
    var when = formatTime(m.at);
    rec.time.textContent = when;
    if (typeof m.at === 'string') rec.time.setAttribute('datetime', m.at);
    rec.time.hidden = !when;
    renderChoices(rec, m.from === 'me' ? [] : m.choices);
  }

  function buildMedia(kind, url) {
    if (!url) return make('span', 'media-missing', kind === 'photo' ? T.photoLabel : T.voiceLabel);
    if (kind === 'voice') {
      var audio = document.createElement('audio');
      audio.className = 'audio';
      audio.controls = true;
      audio.preload = 'none';
      audio.src = url;
      return audio;
    }
    var btn = make('button', 'photo-btn');
    btn.type = 'button';
    btn.setAttribute('aria-label', T.viewPhoto);
    var img = document.createElement('img');
    img.className = 'photo';
    img.alt = T.photoLabel;
    img.decoding = 'async';
    img.addEventListener('load', keepBottom);
    img.addEventListener('error', function () {
      img.classList.add('broken');
      img.alt = T.photoBroken;
    });
    img.src = url;
    btn.appendChild(img);
    btn.addEventListener('click', function () { openViewer(url); });
    return btn;
  }

  function renderChoices(rec, rows) {
    clearChildren(rec.choices);
    var count = 0;
    if (Array.isArray(rows)) {
      rows.forEach(function (row) {
        if (!Array.isArray(row)) return;
        var line = make('div', 'choice-row');
        row.forEach(function (c) {
          if (!c || typeof c.label !== 'string' || typeof c.data !== 'string') return;
          var b = make('button', 'choice', c.label);
          b.type = 'button';
          b.disabled = rec.pressing;
          b.addEventListener('click', function () { press(rec, c.data, b); });
          line.appendChild(b);
          count += 1;
        });
        if (line.firstChild) rec.choices.appendChild(line);
      });
    }
    rec.choices.hidden = count === 0;
  }

  function setChoicesDisabled(rec, disabled) {
    var buttons = rec.choices.querySelectorAll('button.choice');
    for (var i = 0; i < buttons.length; i++) buttons[i].disabled = disabled;
  }

  async function press(rec, data, button) {
    if (rec.pressing) return;
    var gen = state.gen;
    rec.pressing = true;
    setChoicesDisabled(rec, true);
    button.classList.add('pending');
    try {
      var r = await api('POST', '/api/press', { message_id: rec.id, data: data });
      if (gen !== state.gen) return;
      if (r.ok) {
        if (r.data && typeof r.data.toast === 'string' && r.data.toast) toast(r.data.toast);
      } else if (r.status !== 401) {
        toast(errorText(r));
      }
    } catch (e) {
      if (gen === state.gen) toast(T.network);
    } finally {
      rec.pressing = false;
      button.classList.remove('pending');
      setChoicesDisabled(rec, false);
    }
  }

  function showHint() {
    if ($('hint')) return;
    var hint = make('div', 'hint');
    hint.id = 'hint';
    hint.appendChild(make('strong', 'hint-title', T.hintTitle));
    hint.appendChild(document.createTextNode(T.hintBody));
    el.messages.appendChild(hint);
  }

  function removeHint() {
    var hint = $('hint');
    if (hint && hint.parentNode) hint.parentNode.removeChild(hint);
  }

  /* ------------------------------------------------------------------ composer */

  function desktopEnter() {
    return !!(window.matchMedia && window.matchMedia('(hover: hover) and (pointer: fine)').matches);
  }

  function autoGrow() {
    var t = el.text;
    t.style.height = 'auto';
    var cs = window.getComputedStyle(t);
    var line = parseFloat(cs.lineHeight) || 22;
    var padding = (parseFloat(cs.paddingTop) || 0) + (parseFloat(cs.paddingBottom) || 0);
    var border = (parseFloat(cs.borderTopWidth) || 0) + (parseFloat(cs.borderBottomWidth) || 0);
    var max = Math.ceil(line * 4 + padding + border);
    var want = t.scrollHeight + border;
    t.style.height = Math.min(Math.max(want, 44), max) + 'px';
    t.style.overflowY = want > max ? 'auto' : 'hidden';
    keepBottom();
  }

  function showComposerError(text) {
    el.composerError.textContent = text;
    el.composerError.hidden = false;
    keepBottom();
  }

  function hideComposerError() {
    el.composerError.hidden = true;
    el.composerError.textContent = '';
  }

  async function sendText(ev) {
    if (ev) ev.preventDefault();
    if (state.sending) return;
    var typed = el.text.value;
    var text = typed.trim();
    if (!text) {
      el.text.focus();
      return;
    }
    var gen = state.gen;
    state.sending = true;
    el.send.disabled = true;
    hideComposerError();
    try {
      var r = await api('POST', '/api/say', { text: text });
      if (gen !== state.gen) return;
      if (r.ok) {
        // Clear what was sent; keep anything typed meanwhile.
        var now = el.text.value;
        el.text.value = now.indexOf(typed) === 0 ? now.slice(typed.length).replace(/^\s+/, '') : now;
        autoGrow();
        scrollToBottom(true);
      } else if (r.status !== 401) {
        showComposerError(errorText(r));
      }
    } catch (e) {
      if (gen === state.gen) showComposerError(T.sendFailed);
    } finally {
      if (gen === state.gen) {
        state.sending = false;
        el.send.disabled = false;
      }
    }
  }

  function onTextKey(ev) {
    if (ev.key !== 'Enter' || ev.shiftKey || ev.isComposing || ev.keyCode === 229) return;
    if (ev.ctrlKey || ev.metaKey || desktopEnter()) {
      ev.preventDefault();
      sendText();
    }
  }

  /* ------------------------------------------------------------------ photos */

  function onPhotoChosen() {
    var file = el.photoInput.files && el.photoInput.files[0];
    el.photoInput.value = '';   // choosing the same photo again fires change again
    if (!file) return;
    hideComposerError();
    if (file.size > MAX_PHOTO_BYTES) {
      showComposerError(T.photoTooBig);
      return;
    }
    if (file.type && !/^image\//.test(file.type)) {
      showComposerError(T.notPhoto);
      return;
    }
    openPhotoSheet(file);
  }

  function photoMessage(text, kind) {
    el.photoMessage.textContent = text || '';
    el.photoMessage.className = 'form-message' + (kind ? ' ' + kind : '');
  }

  function openPhotoSheet(file) {
    state.photoFile = file;
    if (state.photoUrl) URL.revokeObjectURL(state.photoUrl);
    state.photoUrl = null;
    photoMessage('', '');
    try {
      state.photoUrl = URL.createObjectURL(file);
      el.photoPreview.src = state.photoUrl;
      el.photoPreview.hidden = false;
    } catch (e) {
      el.photoPreview.hidden = true;
      photoMessage(T.noPreview, '');
    }
    // What was typed in the box becomes the photo's caption (and goes back if cancelled).
    el.photoCaption.value = el.text.value.trim();
    el.text.value = '';
    autoGrow();
    setPhotoBusy(false);
    el.photoSheet.hidden = false;
    el.photoSend.focus();
  }

  function closePhotoSheet(restoreCaption) {
    if (state.photoXhr) state.photoXhr.abort();
    if (restoreCaption && el.photoCaption.value && !el.text.value.trim()) {
      el.text.value = el.photoCaption.value;
      autoGrow();
    }
    el.photoSheet.hidden = true;
    el.photoCaption.value = '';
    el.photoPreview.removeAttribute('src');
    if (state.photoUrl) URL.revokeObjectURL(state.photoUrl);
    state.photoUrl = null;
    state.photoFile = null;
    setPhotoBusy(false);
  }

  function setPhotoBusy(busy, progress) {
    el.photoSend.disabled = busy;
    el.photoCaption.disabled = busy;
    if (!busy) el.photoSend.textContent = T.photoSend;
    else el.photoSend.textContent = typeof progress === 'number' ? '发送中 ' + Math.round(progress * 100) + '%' : T.sending;
  }

  async function sendPhoto() {
    var file = state.photoFile;
    if (!file || state.photoXhr) return;
    if (file.size > MAX_PHOTO_BYTES) {
      photoMessage(T.photoTooBig, 'error');
      return;
    }
    var gen = state.gen;
    var caption = el.photoCaption.value.trim();
    setPhotoBusy(true);
    photoMessage('', '');
    try {
      var r = await uploadPhoto(file, caption, function (p) { setPhotoBusy(true, p); });
      if (gen !== state.gen || r.aborted) return;
      if (r.ok) {
        closePhotoSheet(false);
        scrollToBottom(true);
      } else if (r.status === 401) {
        signedOut(T.expired);
      } else {
        setPhotoBusy(false);
        photoMessage(errorText(r), 'error');
      }
    } catch (e) {
      if (gen !== state.gen) return;
      setPhotoBusy(false);
      photoMessage(T.sendFailed, 'error');
    }
  }

  /* ------------------------------------------------------------------ full-size viewer */

  function openViewer(url) {
    el.viewerImg.src = url;
    el.viewer.hidden = false;
    try {
      history.pushState({ viewer: true }, '');
      state.viewerPushed = true;
    } catch (e) {
      state.viewerPushed = false;
    }
  }

  function closeViewer(goBack) {
    if (el.viewer.hidden) return;
    el.viewer.hidden = true;
    el.viewerImg.removeAttribute('src');
    if (state.viewerPushed) {
      state.viewerPushed = false;
      if (goBack) history.back();
    }
  }

  /* ------------------------------------------------------------------ toast */

  function toast(text) {
    if (!text) return;
    el.toast.textContent = text;
    el.toast.classList.add('show');
    clearTimeout(state.toastTimer);
    state.toastTimer = setTimeout(function () { el.toast.classList.remove('show'); }, TOAST_MS);
  }

  /* ------------------------------------------------------------------ viewport (soft keyboard) */

  // Size the chat to the visual viewport so the composer stays above the on-screen keyboard
  // (Chrome ≥108 and iOS shrink only the visual viewport when the keyboard opens).
  function updateViewport() {
    var vv = window.visualViewport;
    if (!vv) return;
    var root = document.documentElement.style;
    root.setProperty('--vv-height', Math.round(vv.height) + 'px');
    root.setProperty('--vv-top', Math.max(0, Math.round(vv.offsetTop)) + 'px');
    keepBottom();
  }

  /* ------------------------------------------------------------------ wiring */

  function init() {
    el.boot = $('boot');
    el.bootText = $('boot-text');
    el.bootRetry = $('boot-retry');
    el.loginScreen = $('login-screen');
    el.loginForm = $('login-form');
    el.phone = $('phone');
    el.code = $('code');
    el.sendCode = $('send-code');
    el.login = $('login');
    el.loginMessage = $('login-message');
    el.chatScreen = $('chat-screen');
    el.who = $('who');
    el.logout = $('logout');
    el.status = $('status');
    el.messages = $('messages');
    el.newMessages = $('new-messages');
    el.composerError = $('composer-error');
    el.composerForm = $('composer-form');
    el.photoButton = $('photo-button');
    el.photoInput = $('photo-input');
    el.text = $('text');
    el.send = $('send');
    el.photoSheet = $('photo-sheet');
    el.photoPreview = $('photo-preview');
    el.photoCaption = $('photo-caption');
    el.photoMessage = $('photo-message');
    el.photoCancel = $('photo-cancel');
    el.photoSend = $('photo-send');
    el.viewer = $('viewer');
    el.viewerImg = $('viewer-img');
    el.viewerClose = $('viewer-close');
    el.toast = $('toast');

    el.bootRetry.addEventListener('click', boot);

    el.phone.addEventListener('input', function () { digitsOnly(el.phone, 11); });
    el.code.addEventListener('input', function () { digitsOnly(el.code, 6); });
    el.phone.addEventListener('paste', pasteDigits(el.phone, 11));
    el.code.addEventListener('paste', pasteDigits(el.code, 6));
    el.sendCode.addEventListener('click', sendCode);
    el.loginForm.addEventListener('submit', login);

    el.logout.addEventListener('click', logout);
    el.messages.addEventListener('scroll', function () {
      state.stick = isNearBottom();
      if (state.stick) el.newMessages.hidden = true;
    }, { passive: true });
    el.newMessages.addEventListener('click', function () { scrollToBottom(true); });

    el.composerForm.addEventListener('submit', sendText);
    el.text.addEventListener('keydown', onTextKey);
    el.text.addEventListener('input', function () {
      autoGrow();
      if (!el.composerError.hidden && el.text.value) hideComposerError();
    });

    el.photoButton.addEventListener('click', function () { el.photoInput.click(); });
    el.photoInput.addEventListener('change', onPhotoChosen);
    el.photoCancel.addEventListener('click', function () { closePhotoSheet(true); });
    el.photoSend.addEventListener('click', sendPhoto);
    el.photoSheet.addEventListener('click', function (ev) {
      if (ev.target === el.photoSheet && !state.photoXhr) closePhotoSheet(true);
    });
    el.photoPreview.addEventListener('error', function () {
      if (el.photoPreview.getAttribute('src')) photoMessage(T.noPreview, '');
    });

    el.viewer.addEventListener('click', function () { closeViewer(true); });
    window.addEventListener('popstate', function () {
      if (!el.viewer.hidden) {
        state.viewerPushed = false;
        closeViewer(false);
      }
    });
    document.addEventListener('keydown', function (ev) {
      if (ev.key !== 'Escape') return;
      if (!el.viewer.hidden) closeViewer(true);
      else if (!el.photoSheet.hidden && !state.photoXhr) closePhotoSheet(true);
    });

    if (window.visualViewport) {
      window.visualViewport.addEventListener('resize', updateViewport);
      window.visualViewport.addEventListener('scroll', updateViewport);
      updateViewport();
    }
    window.addEventListener('resize', keepBottom);
    if (typeof window.ResizeObserver === 'function') {
      new ResizeObserver(keepBottom).observe(el.messages);
    }

    var hiddenAt = 0;
    document.addEventListener('visibilitychange', function () {
      if (document.visibilityState === 'hidden') {
        hiddenAt = Date.now();
      } else {
        ensureConnected(hiddenAt > 0 && Date.now() - hiddenAt > 20000);
      }
    });
    window.addEventListener('online', function () { ensureConnected(true); });
    window.addEventListener('offline', function () {
      if (state.signedIn) setStatus('offline');
    });

    autoGrow();
    boot();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
