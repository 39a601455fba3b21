/**
 * The report's script, inlined into the page: no framework, no network. It reads the embedded JSON,
 * draws the view the URL hash names (#summary, #findings, #kind/role, #ent/3, #users, #user/41,
 * #changes) and pages every table, so 100k rows cost no more to show than 50.
 *
 * Plain ES2017 in a string (no backticks or template placeholders inside) so it is served as
 * written; tests drive it in headless Chromium.
 */
export const CLIENT_JS = String.raw`
(function () {
  'use strict';
  var STATUS = ['enabled', 'disabled', 'deleted', 'unknown'];
  var TYPES = ['human', 'API user', 'system', 'unknown'];
  var PAGE = 50;
  var app = document.getElementById('app');

  function fail(message) {
    var box = document.getElementById('report-error');
    box.textContent = message;
    box.hidden = false;
    document.body.setAttribute('data-state', 'error');
  }

  var D;
  try {
    D = JSON.parse(document.getElementById('report-data').textContent);
    if (!D || D.version !== 1) throw new Error('unknown data version');
  } catch (err) {
    fail('The report data cannot be read (' + err.message + '). Generate the report again.');
    throw err;
  }

  // Holders per entitlement, from gaps back to user numbers; holdings per user, by counting sort.
  var holders = D.members.map(function (gaps) {
    var out = new Int32Array(gaps.length);
    var p = 0;
    for (var i = 0; i < gaps.length; i++) { p += gaps[i]; out[i] = p; }
    return out;
  });
  var heldStart = new Int32Array(D.users.length + 1);
  holders.forEach(function (h) { for (var i = 0; i < h.length; i++) heldStart[h[i] + 1]++; });
  for (var i = 0; i < D.users.length; i++) heldStart[i + 1] += heldStart[i];
  var heldItems = new Int32Array(heldStart[D.users.length]);
  var fill = heldStart.slice(0, D.users.length);
  holders.forEach(function (h, e) { for (var i = 0; i < h.length; i++) heldItems[fill[h[i]]++] = e; });
  function heldBy(u) { return heldItems.subarray(heldStart[u], heldStart[u + 1]); }
  var userById = new Map();
  D.users.forEach(function (u, i) { userById.set(String(u[0]), i); });
  var kindLabel = {};
  D.kinds.forEach(function (k) { kindLabel[k.id] = k.label; });

  // ---- small DOM helpers ----
  function h(tag, attrs) {
    var node = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (attrs[k] === undefined || attrs[k] === null) continue;
      if (k === 'text') node.textContent = attrs[k];
      else if (k === 'onclick' || k === 'oninput' || k === 'onchange') node[k] = attrs[k];
      else node.setAttribute(k, attrs[k]);
    }
    for (var j = 2; j < arguments.length; j++) append(node, arguments[j]);
    return node;
  }
  function append(node, child) {
    if (child === undefined || child === null || child === false) return;
    if (Array.isArray(child)) { child.forEach(function (c) { append(node, c); }); return; }
    node.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
  function fmt(n) { return Number(n).toLocaleString('en-US'); }
  function userName(u) { var r = D.users[u]; return r[11] ? '(missing from the file)' : (r[1] || '(no name)'); }
  function userLink(u) {
    var r = D.users[u];
    return h('a', { href: '#user/' + encodeURIComponent(r[0]), 'data-user': r[0] }, userName(u));
  }
  function entName(e) { var r = D.entitlements[e]; return r[1] || r[4] || r[0]; }
  function resName(e) { var r = D.entitlements[e]; return r[4] || r[1] || r[3]; }
  function entLink(e, label) { return h('a', { href: '#ent/' + e }, label || entName(e)); }
  function statusBadge(u) {
    var s = STATUS[D.users[u][4]];
    return h('span', { class: 'badge status-' + s }, s);
  }
  function managerOf(u) { var m = D.users[u][6]; return m >= 0 ? m : -1; }

  // ---- the table: search, sort, pages ----
  function table(id, columns, rows, opts) {
    opts = opts || {};
    var shown = rows.slice();
    var sortCol = opts.sort === undefined ? -1 : opts.sort;
    var sortDir = opts.desc ? -1 : 1;
    var page = 0;
    var haystack = null;
    var input = h('input', { type: 'search', placeholder: opts.placeholder || 'Search…', 'data-testid': 'search-' + id, 'aria-label': 'Search ' + id });
    var count = h('span', { class: 'count', 'data-testid': 'count-' + id });
    var pager = h('span', { class: 'pager' });
    var thead = h('thead');
    var tbody = h('tbody');
    var headRow = h('tr');
    columns.forEach(function (c, ci) {
      var th = h('th', { scope: 'col', class: c.num ? 'num' : null, tabindex: '0' }, c.label);
      th.onclick = function () { sortBy(ci); };
      th.onkeydown = function (ev) { if (ev.key === 'Enter') sortBy(ci); };
      headRow.appendChild(th);
    });
    thead.appendChild(headRow);
    function text(r) {
      return columns.map(function (c) { var v = c.get(r); return v === undefined || v === null ? '' : String(v); }).join('\u0001').toLowerCase();
    }
    function filter(q) {
      q = q.trim().toLowerCase();
      if (!q) { shown = rows.slice(); }
      else {
        if (!haystack) haystack = rows.map(text);
        shown = [];
        for (var i = 0; i < rows.length; i++) if (haystack[i].indexOf(q) !== -1) shown.push(rows[i]);
      }
      if (sortCol >= 0) applySort();
      page = 0;
      draw();
    }
    function applySort() {
      var c = columns[sortCol];
      var keyed = shown.map(function (r) { var v = c.get(r); return [c.num ? Number(v) : String(v === undefined || v === null ? '' : v).toLowerCase(), r]; });
      keyed.sort(function (a, b) { return a[0] < b[0] ? -sortDir : a[0] > b[0] ? sortDir : 0; });
      shown = keyed.map(function (k) { return k[1]; });
    }
    function sortBy(ci) {
      if (sortCol === ci) sortDir = -sortDir; else { sortCol = ci; sortDir = columns[ci].num ? -1 : 1; }
      applySort();
      page = 0;
      draw();
    }
    function draw() {
      var pages = Math.max(1, Math.ceil(shown.length / PAGE));
      if (page >= pages) page = pages - 1;
      var frag = document.createDocumentFragment();
      shown.slice(page * PAGE, page * PAGE + PAGE).forEach(function (r) {
        var tr = h('tr');
        columns.forEach(function (c) {
          tr.appendChild(h('td', { class: c.num ? 'num' : null }, c.render ? c.render(r) : c.get(r)));
        });
        frag.appendChild(tr);
      });
      tbody.textContent = '';
      tbody.appendChild(frag);
      if (!shown.length) tbody.appendChild(h('tr', null, h('td', { colspan: String(columns.length), class: 'empty' }, rows.length ? 'No row matches the search.' : 'None.')));
      count.textContent = shown.length === rows.length ? fmt(rows.length) + ' rows' : fmt(shown.length) + ' of ' + fmt(rows.length) + ' rows';
      count.setAttribute('data-count', String(shown.length));
      Array.prototype.forEach.call(headRow.children, function (th, ci) {
        th.setAttribute('aria-sort', ci === sortCol ? (sortDir > 0 ? 'ascending' : 'descending') : 'none');
      });
      pager.textContent = '';
      if (pages > 1) {
        append(pager, [
          h('button', { type: 'button', onclick: function () { page = 0; draw(); }, disabled: page === 0 ? '' : null }, '«'),
          h('button', { type: 'button', 'data-testid': 'prev-' + id, onclick: function () { page--; draw(); }, disabled: page === 0 ? '' : null }, '‹ Prev'),
          h('span', { class: 'page' }, 'page ' + fmt(page + 1) + ' of ' + fmt(pages)),
          h('button', { type: 'button', 'data-testid': 'next-' + id, onclick: function () { page++; draw(); }, disabled: page >= pages - 1 ? '' : null }, 'Next ›'),
          h('button', { type: 'button', onclick: function () { page = pages - 1; draw(); }, disabled: page >= pages - 1 ? '' : null }, '»'),
        ]);
      }
    }
    var timer = 0;
    input.oninput = function () { clearTimeout(timer); timer = setTimeout(function () { filter(input.value); }, rows.length > 5000 ? 200 : 0); };
    if (sortCol >= 0) applySort();
    draw();
    if (opts.query) { input.value = opts.query; filter(opts.query); }
    return h('div', { class: 'table', 'data-table': id }, h('div', { class: 'controls' }, input, count, pager), h('div', { class: 'scroll' }, h('table', null, thead, tbody)));
  }

  // Columns shared by every table of users.
  function userColumns(get) {
    return [
      { label: 'Name', get: function (r) { return userName(get(r)); }, render: function (r) { return userLink(get(r)); } },
      { label: 'Login', get: function (r) { return D.users[get(r)][2]; } },
      { label: 'Email', get: function (r) { return D.users[get(r)][3]; } },
      { label: 'Status', get: function (r) { return STATUS[D.users[get(r)][4]]; }, render: function (r) { return statusBadge(get(r)); } },
      { label: 'Type', get: function (r) { return TYPES[D.users[get(r)][5]]; } },
      { label: 'Manager', get: function (r) { var m = managerOf(get(r)); return m >= 0 ? userName(m) : ''; }, render: function (r) { var m = managerOf(get(r)); return m >= 0 ? userLink(m) : ''; } },
    ];
  }
  function self(r) { return r; }

  // ---- views ----
  function figure(key, label, value, href) {
    var body = [h('div', { class: 'value', 'data-figure': key }, fmt(value)), h('div', { class: 'label' }, label)];
    return href ? h('a', { class: 'figure', href: href }, body) : h('div', { class: 'figure' }, body);
  }

  function summaryView() {
    var s = D.summary;
    var figs = [
      figure('users', 'users', s.users, '#users'),
      figure('active-users', 'active', s.activeUsers),
      figure('inactive-users', 'inactive', s.inactiveUsers),
      figure('api-users', 'API users', s.apiUsers),
      figure('grants', 'grants', s.grants),
    ];
    D.kinds.forEach(function (k) { figs.push(figure('kind-' + k.id, k.label.toLowerCase(), s.resourcesByKind[k.id] || 0, '#kind/' + k.id)); });
    var findings = D.queries.map(function (q) {
      return h('tr', null, h('td', null, h('a', { href: '#findings/' + q.id }, q.title)), h('td', { class: 'num', 'data-finding': q.id }, fmt(q.findings.length)), h('td', { class: 'num' }, fmt(q.users)));
    });
    var grantRows = D.kinds.map(function (k) {
      return h('tr', null, h('td', null, h('a', { href: '#kind/' + k.id }, k.label)), h('td', { class: 'num' }, fmt(s.resourcesByKind[k.id] || 0)), h('td', { class: 'num', 'data-kind-grants': k.id }, fmt(s.grantsByKind[k.id] || 0)));
    });
    var out = [
      h('section', null, h('h2', null, 'Summary'), h('div', { class: 'figures' }, figs)),
      h('section', null, h('h2', null, 'Review findings'),
        h('table', { class: 'plain' }, h('thead', null, h('tr', null, h('th', null, 'Question'), h('th', { class: 'num' }, 'Findings'), h('th', { class: 'num' }, 'Users'))), h('tbody', null, findings))),
      h('section', null, h('h2', null, 'Access by kind'),
        h('table', { class: 'plain' }, h('thead', null, h('tr', null, h('th', null, 'Kind'), h('th', { class: 'num' }, 'Resources'), h('th', { class: 'num' }, 'Grants'))), h('tbody', null, grantRows))),
    ];
    if (s.missingUsers) out.push(h('p', { class: 'note' }, fmt(s.missingUsers) + ' user(s) hold grants but are absent from the file; they are listed as missing.'));
    if (D.changes) out.push(changesSummary());
    return out;
  }

  function findingColumns(q) {
    var cols = userColumns(function (f) { return f[0]; });
    var ent = { label: q.id === 'sod-conflicts' ? 'Holds' : 'Entitlement', get: function (f) { return f[1] >= 0 ? entName(f[1]) : ''; }, render: function (f) { return f[1] >= 0 ? entLink(f[1]) : '—'; } };
    var kind = { label: 'Kind', get: function (f) { return f[1] >= 0 ? D.entitlements[f[1]][2] : ''; } };
    var reason = { label: q.reasonLabel, get: function (f) { return q.reasons[f[3]]; } };
    if (q.id === 'inactive-access' || q.id === 'api-users') return cols.concat([ent, kind]);
    if (q.id === 'admin-access') return cols.concat([ent, reason]);
    if (q.id === 'no-sso') return cols.concat([reason, { label: 'Entitlements held', num: true, get: function (f) { return heldBy(f[0]).length; } }]);
    return cols.concat([reason, ent, { label: 'And also', get: function (f) { return f[2] >= 0 ? entName(f[2]) : ''; }, render: function (f) { return f[2] >= 0 ? entLink(f[2]) : ''; } }]);
  }

  function findingsView(only) {
    var list = D.queries.filter(function (q) { return !only || q.id === only; });
    var nav = h('p', { class: 'subnav' }, D.queries.map(function (q) { return h('a', { href: '#findings/' + q.id, class: q.id === only ? 'current' : null }, q.title + ' (' + fmt(q.findings.length) + ')'); }));
    return [nav].concat(list.map(function (q) {
      var rules = q.id === 'sod-conflicts' && q.parameters && q.parameters.rules ? h('ul', { class: 'rules' }, q.parameters.rules.map(function (r) { return h('li', null, h('strong', null, r.name), ': ' + r.left.join(' or ') + '  ×  ' + r.right.join(' or ') + (r.description ? ' — ' + r.description : '')); })) : null;
      var pattern = q.parameters && q.parameters.adminPattern ? h('p', { class: 'note' }, 'Admin-like: omnipotent, or a role name matching /' + q.parameters.adminPattern + '/i') : null;
      return h('section', { id: 'q-' + q.id, 'data-query': q.id },
        h('h2', null, q.title, ' ', h('span', { class: 'muted' }, fmt(q.findings.length) + ' findings, ' + fmt(q.users) + ' users')),
        h('p', null, q.description), pattern, rules,
        q.notes.map(function (n) { return h('p', { class: 'note' }, n); }),
        table('q-' + q.id, findingColumns(q), q.findings, {}));
    }));
  }

  function kindView(kind) {
    var ents = [];
    D.entitlements.forEach(function (e, i) { if (e[2] === kind) ents.push(i); });
    var isRole = kind === 'role';
    function active(e) { var n = 0, hs = holders[e]; for (var i = 0; i < hs.length; i++) if (D.users[hs[i]][4] === 0) n++; return n; }
    var cache = {};
    function act(e) { if (!(e in cache)) cache[e] = active(e); return cache[e]; }
    var cols = [
      { label: 'Name', get: function (e) { return resName(e); }, render: function (e) { return entLink(e, resName(e)); } },
      { label: 'Id', get: function (e) { return D.entitlements[e][3]; } },
      { label: 'Entitlement', get: function (e) { return D.entitlements[e][0]; } },
      { label: 'Members', num: true, get: function (e) { return holders[e].length; } },
      { label: 'Active', num: true, get: act },
      { label: 'Not active', num: true, get: function (e) { return holders[e].length - act(e); } },
    ];
    if (isRole) cols.push({ label: 'Omnipotent', get: function (e) { var o = D.entitlements[e][5]; return o === 1 ? 'yes' : o === 0 ? 'no' : '?'; } });
    return [h('h2', null, kindLabel[kind] || kind), table('kind-' + kind, cols, ents, { sort: 3 })];
  }

  function entitlementView(e) {
    var r = D.entitlements[e];
    if (!r) return [h('p', { class: 'note' }, 'No such entitlement in this report.')];
    var facts = h('dl', { class: 'facts' },
      h('dt', null, 'Entitlement'), h('dd', null, r[0]),
      h('dt', null, 'Resource'), h('dd', null, r[2] + ':' + r[3] + ' — ' + (r[4] || '')),
      h('dt', null, 'Members'), h('dd', { 'data-members': String(holders[e].length) }, fmt(holders[e].length)),
      r[5] === 1 ? [h('dt', null, 'Omnipotent'), h('dd', null, 'yes (Coupa admin)')] : null,
      r[6] ? [h('dt', null, 'Missing'), h('dd', null, 'absent from the file; only grants name it')] : null);
    return [h('p', { class: 'crumbs' }, h('a', { href: '#kind/' + r[2] }, kindLabel[r[2]] || r[2]), ' › '), h('h2', null, entName(e)), facts,
      table('members', userColumns(self), Array.from(holders[e]), { sort: 0 })];
  }

  function usersView(query) {
    var all = [];
    for (var i = 0; i < D.users.length; i++) all.push(i);
    var cols = [{ label: 'Id', get: function (u) { return D.users[u][0]; } }].concat(userColumns(self)).concat([
      { label: 'Sign-in', get: function (u) { return D.users[u][7] || (D.users[u][8] === 1 ? 'SSO' : ''); } },
      { label: 'Holds', num: true, get: function (u) { return heldBy(u).length; } },
    ]);
    return [h('h2', null, 'Users'), table('users', cols, all, { placeholder: 'Search by name, login, email or id…', query: query })];
  }

  function userView(id) {
    var u = userById.get(id);
    if (u === undefined) return [h('p', { class: 'note', 'data-testid': 'no-user' }, 'No user ' + id + ' in this report.')];
    var r = D.users[u];
    var m = managerOf(u);
    var sso = r[8] === 1 ? 'SSO' : r[8] === 0 ? 'no SSO' : 'not recorded';
    var limits = D.limits[u] || [];
    var facts = h('dl', { class: 'facts' },
      h('dt', null, 'User id'), h('dd', null, r[0]),
      h('dt', null, 'Login'), h('dd', { 'data-field': 'login' }, r[2] || '—'),
      h('dt', null, 'Email'), h('dd', { 'data-field': 'email' }, r[3] || '—'),
      h('dt', null, 'Status'), h('dd', { 'data-field': 'status' }, statusBadge(u)),
      h('dt', null, 'Type'), h('dd', null, TYPES[r[5]]),
      h('dt', null, 'Sign-in'), h('dd', null, (r[7] || '—') + ' (' + sso + (r[9] ? ', SSO id ' + r[9] : '') + ')'),
      h('dt', null, 'Manager'), h('dd', null, m >= 0 ? userLink(m) : '—'),
      r[10] ? [h('dt', null, 'Employee no.'), h('dd', null, r[10])] : null,
      limits.map(function (l) { return [h('dt', null, l[0]), h('dd', null, l[1])]; }));
    var reports = [];
    D.users.forEach(function (x, i) { if (x[6] === u) reports.push(i); });
    var flags = [];
    D.queries.forEach(function (q) { q.findings.forEach(function (f) { if (f[0] === u) flags.push([q, f]); }); });
    var seen = {};
    var flagList = flags.filter(function (p) { var k = p[0].id; if (seen[k]) return false; seen[k] = 1; return true; }).map(function (p) { return h('li', null, h('a', { href: '#findings/' + p[0].id }, p[0].title)); });
    var held = Array.from(heldBy(u));
    return [h('p', { class: 'crumbs' }, h('a', { href: '#users' }, 'Users'), ' › '),
      h('h2', { 'data-testid': 'user-name' }, userName(u)), facts,
      flagList.length ? h('div', { class: 'flags' }, h('strong', null, 'Flagged by: '), h('ul', null, flagList)) : null,
      h('h3', null, 'Holds ', h('span', { class: 'muted', 'data-testid': 'user-holds' }, String(held.length))),
      table('holdings', [
        { label: 'Kind', get: function (e) { return kindLabel[D.entitlements[e][2]] || D.entitlements[e][2]; } },
        { label: 'Name', get: function (e) { return resName(e); }, render: function (e) { return entLink(e, resName(e)); } },
        { label: 'Entitlement', get: function (e) { return D.entitlements[e][0]; } },
        { label: 'Omnipotent', get: function (e) { return D.entitlements[e][5] === 1 ? 'yes' : ''; } },
      ], held, { sort: 0 }),
      reports.length ? [h('h3', null, 'Direct reports'), table('reports', userColumns(self), reports, {})] : null];
  }

  var CHANGE_KINDS = ['grant added', 'grant removed', 'user added', 'user removed', 'user changed', 'resource added', 'resource removed', 'resource changed', 'entitlement added', 'entitlement removed'];
  function changesSummary() {
    var c = D.changes;
    return h('section', null, h('h2', null, h('a', { href: '#changes' }, 'Changes since last sync')),
      h('p', null, 'From sync ' + c.previous.id + ' (' + (c.previous.endedAt || c.previous.startedAt) + ') to ' + c.current.id + '.'),
      h('div', { class: 'figures' }, CHANGE_KINDS.filter(function (k) { return k.indexOf('grant') === 0 || k.indexOf('user') === 0 || c.counts[k]; }).map(function (k) { return figure('change-' + k.replace(/ /g, '-'), k, c.counts[k] || 0, '#changes'); })));
  }
  function changedLink(r) {
    var ref = String(r[1]);
    var uid = ref.indexOf('user:') === 0 ? ref.slice(5) : null;
    if (uid !== null && userById.has(uid)) return userLink(userById.get(uid));
    return r[2] || ref;
  }
  function changesView() {
    if (!D.changes) return [h('h2', null, 'Changes since last sync'), h('p', { class: 'note' }, 'This file holds one sync only; there is nothing to compare with.')];
    var cols = [
      { label: 'Change', get: function (r) { return CHANGE_KINDS[r[0]]; } },
      { label: 'Who or what', get: function (r) { return r[2] || r[1]; }, render: changedLink },
      { label: 'Id', get: function (r) { return r[1]; } },
      { label: 'Entitlement', get: function (r) { return r[4] || r[3]; } },
      { label: 'Detail', get: function (r) { return r[5]; } },
    ];
    return [changesSummary(), table('changes', cols, D.changes.rows, {})];
  }

  // ---- navigation ----
  var tabs = [['summary', 'Summary'], ['findings', 'Findings']].concat(D.kinds.map(function (k) { return ['kind/' + k.id, k.label]; })).concat([['users', 'Users']]);
  if (D.changes) tabs.push(['changes', 'Changes']);
  var nav = document.getElementById('tabs');
  tabs.forEach(function (t) { nav.appendChild(h('a', { href: '#' + t[0], 'data-tab': t[0] }, t[1])); });

  function route() {
    var hash = decodeURIComponent(location.hash.replace(/^#/, '')) || 'summary';
    var parts = hash.split('/');
    var head = parts[0];
    var rest = parts.slice(1).join('/');
    var view;
    try {
      if (head === 'findings') view = findingsView(rest || null);
      else if (head === 'kind') view = kindView(rest);
      else if (head === 'ent') view = entitlementView(Number(rest));
      else if (head === 'users') view = usersView(rest);
      else if (head === 'user') view = userView(rest);
      else if (head === 'changes') view = changesView();
      else view = summaryView();
    } catch (err) {
      fail('This view failed to draw: ' + err.message);
      throw err;
    }
    Array.prototype.forEach.call(nav.children, function (a) {
      var t = a.getAttribute('data-tab');
      var on = t === hash || (t === 'users' && head === 'user') || (t === 'findings' && head === 'findings') || (head === 'ent' && view && t === 'kind/' + (D.entitlements[Number(rest)] || [])[2]);
      if (on) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
    });
    app.textContent = '';
    append(app, view);
    app.setAttribute('data-view', head);
    document.body.setAttribute('data-state', 'ready');
    window.scrollTo(0, 0);
  }
  window.addEventListener('hashchange', route);
  route();
})();
`;
