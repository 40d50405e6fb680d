// portgate administration panel. No framework, no inline script (the page's
// Content-Security-Policy is default-src 'self'): everything a description or
// a host name holds reaches the page through textContent, never as markup.
'use strict';

const API = '/api/v1/';
const SVG = 'http://www.w3.org/2000/svg';
const COLORS = { upnp: '#2271b1', pcp: '#00743f', natpmp: '#8c5fbf', trigger: '#d63638',
	static: '#996800', other: '#50575e' };
const EVENT_LOG_MAX = 200;
const REFRESH_DELAY_MS = 150;	// events come in bursts: wait for the rest
const REFRESH_MIN_MS = 750;

const st = { csrf: null, es: null, refreshTimer: null, tickTimer: null, loadedAt: 0, lastRefresh: 0,
	triggers: [], rows: [], pinholes: [] };

function $(id) { return document.getElementById(id); }

function el(tag, text, cls) {
	const e = document.createElement(tag);
	if (text !== undefined && text !== null) e.textContent = String(text);
	if (cls) e.className = cls;
	return e;
}

function show(id, on) { $(id).classList.toggle('hidden', !on); }

// An array out of an answer that is either one, or an object holding one under key.
function list(x, key) {
	if (Array.isArray(x)) return x;
	if (x && Array.isArray(x[key])) return x[key];
	return [];
}

function duration(s) {
	if (s === null || s === undefined || s < 0) return 'never';
	s = Math.floor(s);
	if (s < 60) return s + ' s';
	if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
	if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
	return Math.floor(s / 86400) + ' d ' + Math.floor((s % 86400) / 3600) + ' h';
}

function ports(lo, hi) { return hi && hi !== lo ? lo + '-' + hi : String(lo); }

async function call(method, path, body) {
	const opt = { method, credentials: 'same-origin', headers: {} };
	if (method !== 'GET') {
		if (st.csrf) opt.headers['X-CSRF-Token'] = st.csrf;
		if (body !== undefined) {
			opt.headers['Content-Type'] = 'application/json';
			opt.body = JSON.stringify(body);
		}
	}
	const r = await fetch(API + path, opt);
	let data = null;
	const text = await r.text();
	if (text) {
		try { data = JSON.parse(text); } catch (e) { data = { error: text }; }
	}
	if (r.status === 401 && path !== 'login') {
		loggedOut();
		throw new Error('log in again: the session ended');
	}
	if (!r.ok) throw new Error((data && data.error) || (r.status + ' ' + r.statusText));
	return data;
}

// ---- login ----

function loggedOut() {
	st.csrf = null;
	if (st.es) { st.es.close(); st.es = null; }
	clearInterval(st.tickTimer);
	show('panel', false);
	show('logout', false);
	show('login-box', true);
	$('login-password').focus();
}

async function loggedIn(session) {
	st.csrf = session && (session.csrf_token || session.csrf);
	show('login-box', false);
	show('panel', true);
	show('logout', true);
	await refresh();
	openEvents();
	clearInterval(st.tickTimer);
	st.tickTimer = setInterval(tick, 1000);
}

async function login(ev) {
	ev.preventDefault();
	$('login-error').textContent = '';
	try {
		const s = await call('POST', 'login', { password: $('login-password').value });
		$('login-password').value = '';
		await loggedIn(s);
	} catch (e) {
		$('login-error').textContent = e.message;
	}
}

async function logout() {
	try { await call('POST', 'logout'); } catch (e) { /* gone already */ }
	loggedOut();
}

// ---- the tables ----

function hostCell(x) {
	return x.host || x.mac || '\u2013';
}

function remoteText(x) {
	if (x.remote_host) return x.remote_host;
	if (Array.isArray(x.filters) && x.filters.length)
		return x.filters.map(f => (typeof f === 'string' ? f : JSON.stringify(f))).join(', ');
	if (Array.isArray(x.remote) && x.remote.length) return x.remote.join(', ');
	if (typeof x.remote === 'string') return x.remote;
	return 'any';
}

function delButton(label, what, fn) {
	const b = el('button', label, 'del');
	b.type = 'button';
	b.title = 'delete ' + what;
	b.addEventListener('click', async () => {
		b.disabled = true;
		try { await fn(); await refresh(); } catch (e) { banner(e.message); b.disabled = false; }
	});
	return b;
}

function expiresCell(x) {
	const td = el('td', '', 'num expires');
	td.dataset.left = x.expires_in === null || x.expires_in === undefined ? '' : x.expires_in;
	td.textContent = duration(x.expires_in);
	return td;
}

// Behind an upstream PCP server: where the internet reaches the mapping, or why not yet.
function upstreamText(m) {
	if (!m.upstream_state) return '';
	if (m.upstream_state === 'granted')
		return ' (internet: ' + m.upstream_external_ip + ':' + m.upstream_external_port + ')';
	return ' (upstream: ' + m.upstream_state + ')';
}

function renderPorts(maps) {
	const tb = $('ports-table').tBodies[0];
	tb.replaceChildren();
	for (const m of maps) {
		const tr = el('tr');
		tr.dataset.proto = m.proto;
		tr.dataset.port = m.external_port;
		tr.appendChild(el('td', m.source));
		tr.appendChild(el('td', hostCell(m), 'host'));
		tr.appendChild(el('td', m.internal_ip));
		tr.appendChild(el('td', m.proto + ' ' + ports(m.external_port, m.external_port_end) +
		    ' \u2192 ' + ports(m.internal_port, m.internal_port_end) + upstreamText(m)));
		tr.appendChild(el('td', remoteText(m)));
		tr.appendChild(expiresCell(m));
		tr.appendChild(el('td', m.packets === undefined || m.packets === null ? '\u2013' :
		    m.packets, 'num'));
		tr.appendChild(el('td', m.description || '', 'desc'));
		const td = el('td');
		td.appendChild(delButton('Delete', m.proto + ' ' + m.external_port,
		    () => call('DELETE', 'mappings/' + encodeURIComponent(m.proto) + '/' +
		    m.external_port)));
		tr.appendChild(td);
		tb.appendChild(tr);
	}
	$('ports-count').textContent = '(' + maps.length + ')';
	show('ports-empty', maps.length === 0);
}

function renderPinholes(pins) {
	const tb = $('pinholes-table').tBodies[0];
	tb.replaceChildren();
	for (const p of pins) {
		const tr = el('tr');
		tr.appendChild(el('td', p.id));
		tr.appendChild(el('td', p.source));
		tr.appendChild(el('td', hostCell(p), 'host'));
		tr.appendChild(el('td', p.internal_ip));
		tr.appendChild(el('td', p.proto + ' ' + p.internal_port));
		tr.appendChild(el('td', remoteText(p)));
		tr.appendChild(expiresCell(p));
		tr.appendChild(el('td', p.packets === undefined ? '\u2013' : p.packets, 'num'));
		tr.appendChild(el('td', p.description || '', 'desc'));
		const td = el('td');
		td.appendChild(delButton('Delete', 'pinhole ' + p.id,
		    () => call('DELETE', 'pinholes/' + encodeURIComponent(p.id))));
		tr.appendChild(td);
		tb.appendChild(tr);
	}
	show('pinholes-empty', pins.length === 0);
}

function renderTriggers(rules) {
	const tb = $('triggers-table').tBodies[0];
	tb.replaceChildren();
	for (const t of rules) {
		const tr = el('tr');
		tr.dataset.name = t.name;
		const off = t.enabled === false;
		tr.appendChild(el('td', t.name + (off ? ' (disabled)' : '')));
		tr.appendChild(el('td', t.trigger));
		tr.appendChild(el('td', list(t.open, 'open').join(', ')));
		const name = t.host || t.mac;
		const h = t.active ? (name ? name + ' (' + t.holder + ')' : t.holder) :
		    (off ? 'disabled' : 'idle');
		tr.appendChild(el('td', h, 'active-host'));
		const left = el('td', '', 'num closes-in');
		left.dataset.left = t.active && t.closes_in !== null ? t.closes_in : '';
		left.textContent = t.active ? duration(t.closes_in) : '\u2013';
		tr.appendChild(left);
		tr.appendChild(el('td', t.last_refused ? t.last_refused + ' (' +
		    duration(t.refused_ago) + ' ago)' : '\u2013'));
		const td = el('td');
		if (t.enabled !== undefined) {
			const b = el('button', off ? 'Enable' : 'Disable', 'plain');
			b.type = 'button';
			b.addEventListener('click', async () => {
				try {
					await call('POST', 'triggers/' + encodeURIComponent(t.name) + '/' +
					    (off ? 'enable' : 'disable'));
					await refresh();
				} catch (e) { banner(e.message); }
			});
			td.appendChild(b);
		}
		td.appendChild(delButton('Delete', 'trigger ' + t.name,
		    () => call('DELETE', 'triggers/' + encodeURIComponent(t.name))));
		tr.appendChild(td);
		tb.appendChild(tr);
	}
}

function statusValue(s, key) {
	if (!s) return undefined;
	if (s[key] !== undefined) return s[key];
	for (const k of Object.keys(s))
		if (s[k] && typeof s[k] === 'object' && s[k][key] !== undefined) return s[k][key];
	return undefined;
}

// What the gateway's case means for the internet reaching its ports: status's
// inbound_reachability (README, "Behind a carrier NAT"), worded with the address's class.
function addressVerdict(reach, cls) {
	const what = cls ? cls + ' address' : 'its address';
	switch (reach) {
	case 'public': return ['ok', 'public address: the internet can reach mapped ports'];
	case 'behind_nat_upstream_pcp':
		return ['ok', 'behind another NAT (' + what + '): ports are mapped upstream by PCP'];
	case 'behind_nat_no_upstream':
		return ['bad', 'behind another NAT (' + what + '): the internet cannot reach ports ' +
		    'through this gateway alone'];
	case 'test_network': return ['warn', what + ': only a test network routes it'];
	case 'not_routable': return ['bad', what + ': the internet does not route it'];
	case 'no_address': return ['bad', 'no external address'];
	default: return ['', ''];
	}
}

function renderOverview(status, maps, pins) {
	const ext = statusValue(status, 'external_ip') || statusValue(status, 'external_address');
	$('gw-ext').textContent = ext || 'no external address';
	const [level, text] = addressVerdict(statusValue(status, 'inbound_reachability'),
	    statusValue(status, 'external_ip_class'));
	const v = $('gw-verdict');
	v.textContent = text;
	v.className = 'badge ' + level;
	const counts = {};
	for (const m of maps) counts[m.source] = (counts[m.source] || 0) + 1;
	const cards = $('counts');
	cards.replaceChildren();
	const add = (label, n) => {
		const c = el('div', null, 'card');
		c.appendChild(el('b', n));
		c.appendChild(el('span', label));
		cards.appendChild(c);
	};
	add('mappings', maps.length);
	for (const k of Object.keys(counts).sort()) add(k, counts[k]);
	add('pinholes', pins.length);
	const on = [];
	for (const p of ['upnp', 'pcp', 'natpmp', 'nat_pmp']) {
		const x = statusValue(status, p);
		if (x !== undefined && x !== null && x !== 'no' && x !== 'off' && x !== false)
			on.push(p);
	}
	$('protocols').textContent = on.length ? 'On: ' + on.join(', ') : '';
}

// ---- charts (SVG drawn here from the daemon's one-hour ring) ----

function line(svg, pts, color) {
	const p = document.createElementNS(SVG, 'polyline');
	p.setAttribute('points', pts.map(q => q[0].toFixed(1) + ',' + q[1].toFixed(1)).join(' '));
	p.setAttribute('fill', 'none');
	p.setAttribute('stroke', color);
	p.setAttribute('stroke-width', '1.5');
	svg.appendChild(p);
}

function dot(svg, p, color) {
	const c = document.createElementNS(SVG, 'circle');
	c.setAttribute('cx', p[0].toFixed(1));
	c.setAttribute('cy', p[1].toFixed(1));
	c.setAttribute('r', '2.5');
	c.setAttribute('fill', color);
	svg.appendChild(c);
}

function svgText(svg, x, y, s) {
	const t = document.createElementNS(SVG, 'text');
	t.setAttribute('x', x);
	t.setAttribute('y', y);
	t.textContent = s;
	svg.appendChild(t);
}

// series: { name: [values oldest first] }
function chart(svgId, legendId, series) {
	const svg = $(svgId), legend = $(legendId);
	svg.replaceChildren();
	legend.replaceChildren();
	const W = 320, H = 120, L = 28, B = 14;
	const names = Object.keys(series).filter(k => series[k].length);
	let max = 1, n = 2;
	for (const k of names) {
		for (const v of series[k]) if (typeof v === 'number' && v > max) max = v;
		n = Math.max(n, series[k].length);
	}
	const ax = document.createElementNS(SVG, 'path');
	ax.setAttribute('d', 'M' + L + ' 4 V' + (H - B) + ' H' + W);
	ax.setAttribute('class', 'axis');
	ax.setAttribute('fill', 'none');
	svg.appendChild(ax);
	svgText(svg, 2, 10, String(max));
	svgText(svg, 2, H - B, '0');
	svgText(svg, L, H - 2, '-60 min');
	svgText(svg, W - 24, H - 2, 'now');
	if (!names.length) {
		svgText(svg, L + 60, H / 2, 'no samples yet');
		return;
	}
	for (const k of names) {
		const vals = series[k], pts = [];
		vals.forEach((v, i) => {
			if (typeof v !== 'number') return;
			const x = L + (W - L - 2) * (n - vals.length + i) / (n - 1);
			pts.push([x, (H - B) - (H - B - 6) * v / max]);
		});
		const color = COLORS[k] || COLORS.other;
		if (pts.length > 1) line(svg, pts, color);
		else if (pts.length === 1) dot(svg, pts[0], color);
		const s = el('span');
		const sw = el('i');
		sw.style.background = color;	// CSSOM, not an inline style attribute
		s.appendChild(sw);
		s.appendChild(document.createTextNode(k));
		legend.appendChild(s);
	}
}

function renderHistory(h) {
	const samples = list(h, 'samples');
	const bySource = {}, packets = [];
	let anyPackets = false;
	for (const s of samples) {
		const m = s.mappings || {};
		for (const k of Object.keys(m)) {
			if (!bySource[k]) bySource[k] = new Array(samples.indexOf(s)).fill(null);
		}
		for (const k of Object.keys(bySource)) bySource[k].push(typeof m[k] === 'number' ? m[k] : 0);
		const p = s.inbound_packets;
		if (typeof p === 'number') anyPackets = true;
		packets.push(typeof p === 'number' ? p : null);
	}
	chart('chart-mappings', 'legend-mappings', bySource);
	chart('chart-packets', 'legend-packets', anyPackets ? { inbound: packets } : {});
	if (!anyPackets) $('legend-packets').textContent = 'the kernel has not reported counters yet';
}

// ---- refresh, countdowns, events ----

function banner(msg) {
	$('banner').textContent = msg || '';
}

async function refresh() {
	clearTimeout(st.refreshTimer);
	st.refreshTimer = null;
	st.lastRefresh = Date.now();
	try {
		const [status, maps, pins, trig, hist] = await Promise.all([
			call('GET', 'status'), call('GET', 'mappings'), call('GET', 'pinholes'),
			call('GET', 'triggers'), call('GET', 'history').catch(() => null)]);
		st.loadedAt = Date.now();
		const m = list(maps, 'mappings').filter(x => x.kind !== 'pinhole');
		const p = list(pins, 'pinholes');
		renderOverview(status, m, p);
		renderPorts(m);
		renderPinholes(p);
		renderTriggers(list(trig, 'triggers'));
		if (hist) renderHistory(hist);
		banner('');
	} catch (e) {
		banner(e.message);
	}
}

// After an event: re-read soon, but not more often than every REFRESH_MIN_MS (a big
// table costs the daemon a kernel read per list), so a burst of events is one refresh.
function refreshSoon() {
	if (st.refreshTimer) return;
	const since = Date.now() - st.lastRefresh;
	st.refreshTimer = setTimeout(refresh, Math.max(REFRESH_DELAY_MS, REFRESH_MIN_MS - since));
}

function tick() {
	const gone = (Date.now() - st.loadedAt) / 1000;
	for (const td of document.querySelectorAll('td.expires, td.closes-in')) {
		if (td.dataset.left === '') continue;
		const left = Number(td.dataset.left) - gone;
		td.textContent = duration(Math.max(0, left));
	}
}

function eventText(ev) {
	const parts = [ev.type];
	for (const k of ['proto', 'external_port', 'internal', 'internal_ip', 'source', 'rule',
	    'host', 'client', 'reason', 'old', 'new', 'description'])
		if (ev[k] !== undefined && ev[k] !== null && ev[k] !== '') parts.push(k + '=' + ev[k]);
	return parts.join(' ');
}

function logEvent(ev) {
	const log = $('event-log');
	const when = ev.time ? new Date(ev.time) : new Date();
	const li = el('li', when.toLocaleTimeString() + '  ' + eventText(ev));
	li.dataset.type = ev.type || '';
	log.insertBefore(li, log.firstChild);
	while (log.children.length > EVENT_LOG_MAX) log.removeChild(log.lastChild);
}

function openEvents() {
	if (st.es || typeof EventSource === 'undefined') return;
	const es = new EventSource(API + 'events');
	st.es = es;
	es.onopen = () => { $('events-state').textContent = '(live)'; };
	es.onerror = () => { $('events-state').textContent = '(reconnecting)'; };
	es.onmessage = (m) => {
		let ev;
		try { ev = JSON.parse(m.data); } catch (e) { return; }
		logEvent(ev);
		refreshSoon();
	};
}

// ---- forms ----

async function addForward(ev) {
	ev.preventDefault();
	$('forward-error').textContent = '';
	const ext = $('forward-ext').value.trim().split('-');
	const body = { proto: $('forward-proto').value, external_port: Number(ext[0]),
		internal_ip: $('forward-ip').value.trim() };
	if (ext[1]) body.external_port_end = Number(ext[1]);
	if ($('forward-port').value) body.internal_port = Number($('forward-port').value);
	if ($('forward-lease').value) body.lease = Number($('forward-lease').value);
	if ($('forward-desc').value) body.description = $('forward-desc').value;
	try {
		await call('POST', 'forwards', body);
		$('forward-form').reset();
		await refresh();
	} catch (e) {
		$('forward-error').textContent = e.message;
	}
}

async function addTrigger(ev) {
	ev.preventDefault();
	$('trigger-error').textContent = '';
	const body = { name: $('trigger-name').value.trim(), trigger: $('trigger-match').value.trim(),
		open: $('trigger-open').value.trim() };
	if ($('trigger-idle').value) body.idle = Number($('trigger-idle').value);
	try {
		await call('POST', 'triggers', body);
		$('trigger-form').reset();
		await refresh();
	} catch (e) {
		$('trigger-error').textContent = e.message;
	}
}

async function start() {
	$('login-form').addEventListener('submit', login);
	$('logout').addEventListener('click', logout);
	$('forward-form').addEventListener('submit', addForward);
	$('trigger-form').addEventListener('submit', addTrigger);
	try {
		await loggedIn(await call('GET', 'session'));
	} catch (e) {
		loggedOut();
	}
}

document.addEventListener('DOMContentLoaded', start);
