// The customer page served at GET / of the emulator: lets a person trying Switchboard play the
// customer — pick a bot, write as a Telegram user (text or a file) and watch the bot's answers.
// Plain HTML + fetch against the /_emulator/ control API; no build step. User text is inserted with
// textContent only, never innerHTML.
export const CUSTOMER_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Telegram emulator — Switchboard sandbox</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 0; background: #eef2f5; color: #1d2733; }
  header { background: #2b5278; color: #fff; padding: 10px 16px; }
  main { display: grid; grid-template-columns: 320px 1fr; gap: 16px; padding: 16px; max-width: 1100px; }
  section { background: #fff; border-radius: 8px; padding: 12px 14px; box-shadow: 0 1px 2px #0002; }
  label { display: block; font-size: 13px; margin-top: 8px; color: #456; }
  input, select, textarea, button { font: inherit; width: 100%; box-sizing: border-box; margin-top: 2px; }
  button { background: #2b5278; color: #fff; border: 0; border-radius: 6px; padding: 7px; cursor: pointer; margin-top: 10px; }
  code { font-size: 12px; word-break: break-all; background: #f3f5f7; padding: 1px 3px; }
  #log { min-height: 320px; display: flex; flex-direction: column; gap: 6px; }
  .msg { max-width: 70%; padding: 6px 10px; border-radius: 10px; white-space: pre-wrap; }
  .in { align-self: flex-end; background: #dcf8c6; }
  .out { align-self: flex-start; background: #f1f1f1; }
  .meta { font-size: 11px; color: #789; }
  .err { color: #b00020; }
</style>
</head>
<body>
<header><strong>Telegram emulator</strong> — act as a customer writing to a bot</header>
<main>
  <div>
    <section>
      <label>Bot <select id="bot"></select></label>
      <div id="botinfo" class="meta"></div>
      <form id="newbot"><label>New bot username <input id="newname" placeholder="my_company_bot"></label><button>Create bot</button></form>
    </section>
    <section style="margin-top:16px">
      <strong>You (the customer)</strong>
      <label>Telegram user id <input id="uid" type="number" value="1111111"></label>
      <label>First name <input id="first" value="Ann"></label>
      <label>Last name <input id="last" value=""></label>
      <label>Username <input id="uname" value="ann"></label>
    </section>
  </div>
  <section>
    <div id="log"></div>
    <form id="send">
      <label>Message <textarea id="text" rows="2"></textarea></label>
      <label>Attach a file (images go as photos) <input id="file" type="file"></label>
      <button>Send</button>
      <div id="status" class="err"></div>
    </form>
  </section>
</main>
<script>
const $ = (id) => document.getElementById(id);
let bots = [], botKey = '';
async function loadBots() {
  const keep = $('bot').value;
  bots = await (await fetch('/_emulator/bots')).json();
  const key = bots.map((b) => b.id).join(',');
  if (key === botKey) { showBot(); return; }
  botKey = key;
  $('bot').replaceChildren(...bots.map((b) => { const o = document.createElement('option'); o.value = b.id; o.textContent = '@' + b.username; return o; }));
  if (keep && bots.some((b) => String(b.id) === keep)) $('bot').value = keep;
  showBot();
}
function showBot() {
  const b = bots.find((x) => String(x.id) === $('bot').value);
  const info = $('botinfo');
  info.replaceChildren();
  if (!b) { info.textContent = 'No bot yet: create one.'; return; }
  const t = document.createElement('code'); t.textContent = b.token;
  info.append('Token (paste into Switchboard): ', t, document.createElement('br'),
    b.webhook.url ? 'Webhook: ' + b.webhook.url + ' (pending ' + b.webhook.pending_update_count + ')' : 'Polling mode (no webhook). Pending updates: ' + b.webhook.pending_update_count);
  if (b.webhook.last_error_message) info.append(document.createElement('br'), 'Last webhook error: ' + b.webhook.last_error_message);
}
async function refreshLog() {
  const botId = $('bot').value, chatId = $('uid').value;
  if (!botId || !chatId) return;
  const items = await (await fetch('/_emulator/bots/' + botId + '/chats/' + chatId + '/transcript')).json();
  $('log').replaceChildren(...items.map(({ direction, message }) => {
    const d = document.createElement('div'); d.className = 'msg ' + direction;
    d.textContent = message.text ?? message.caption ?? '';
    const file = message.document ?? (message.photo ? message.photo[message.photo.length - 1] : null);
    if (file) {
      const a = document.createElement('a'); a.href = '/_emulator/files/' + encodeURIComponent(file.file_id); a.target = '_blank';
      a.textContent = (message.document ? '📎 ' + (message.document.file_name ?? 'document') : '🖼 photo');
      d.append(document.createElement('br'), a);
    }
    const m = document.createElement('div'); m.className = 'meta'; m.textContent = new Date(message.date * 1000).toLocaleTimeString();
    d.append(m);
    return d;
  }));
}
$('bot').addEventListener('change', () => { showBot(); refreshLog(); });
$('newbot').addEventListener('submit', async (e) => {
  e.preventDefault();
  const username = $('newname').value.trim(); if (!username) return;
  const r = await fetch('/_emulator/bots', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username }) });
  const created = await r.json(); $('newname').value = '';
  await loadBots(); $('bot').value = created.id; showBot();
});
$('send').addEventListener('submit', async (e) => {
  e.preventDefault(); $('status').textContent = '';
  const fd = new FormData();
  fd.set('fromId', $('uid').value); fd.set('firstName', $('first').value); fd.set('lastName', $('last').value);
  fd.set('username', $('uname').value); fd.set('text', $('text').value);
  if ($('file').files[0]) fd.set('file', $('file').files[0]);
  const r = await fetch('/_emulator/bots/' + $('bot').value + '/messages', { method: 'POST', body: fd });
  if (!r.ok) { $('status').textContent = (await r.json()).error; return; }
  $('text').value = ''; $('file').value = '';
  refreshLog();
});
loadBots().then(refreshLog);
setInterval(() => { refreshLog(); loadBots(); }, 1500);
</script>
</body>
</html>
`;
