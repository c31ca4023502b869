// The page's script: plain JavaScript, no library.  Every text from the server or a file is put into
// the page with textContent (never innerHTML): a reason typed as "<script>" is shown, not run.
"use strict";

const csrfMeta = document.querySelector('meta[name="csrf"]');
const CSRF = { [csrfMeta.dataset.header]: csrfMeta.content };
const limitsMeta = document.querySelector('meta[name="limits"]');
const MAX_BYTES = Number(limitsMeta.dataset.maxBytes);
const MAX_MB = limitsMeta.dataset.maxMb;
const POLL_MS = 2000;
const PARALLEL_UPLOADS = 4;
const BATCH_FILES = 8;

const $ = (sel) => document.querySelector(sel);

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k === "style") e.style.cssText = v;  // through CSSOM: the policy forbids style attributes
    else e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function fill(tbody, rows) {
  tbody.replaceChildren(...rows);
}

async function getJSON(url) {
  const r = await fetch(url, { credentials: "same-origin", cache: "no-store" });
  if (!r.ok) throw new Error(`${r.status}`);
  return r.json();
}

async function post(url, body) {
  return fetch(url, { method: "POST", credentials: "same-origin", headers: CSRF, body });
}

// ------------------------------------------------------------------ 收表进度

let status = null;
let statusVersion = -1;
const filesByName = new Map();

function renderStatus(s) {
  $("#received").textContent = s.received;
  $("#expected").textContent = s.expected;
  const when = $("#when");
  when.textContent = `${s.when}（今天 ${s.today}，截止 ${s.deadline}）`;
  when.classList.toggle("late", s.days_left < 0);
  when.classList.toggle("soon", s.days_left >= 0 && s.days_left <= 2);
  const onlyMissing = $("#only-missing").checked;
  const rows = [];
  s.summaries.forEach((u, i) => {
    const done = u.missing.length === 0;
    if (onlyMissing && done) return;
    const pct = u.expected ? Math.round((100 * u.returned) / u.expected) : 100;
    const bar = el("div", { class: "minibar" }, el("div", { class: "fill", style: `width:${pct}%` }));
    rows.push(el("tr", { class: done ? "done" : "" },
      el("td", { class: "n", text: i + 1 }),
      el("td", { text: u.name }),
      el("td", { class: "num", text: `${u.returned}/${u.expected}` }),
      el("td", {}, bar),
      el("td", { class: "num", text: u.refused || "" }),
      el("td", { class: "missing", text: done ? "已交齐" : u.missing.join("、") }),
      el("td", { text: done ? "" : u.leader || (u.liaison ? "" : u.contacts) }),  // "（方案未列联系人）"
      el("td", { text: done ? "" : u.liaison }),
      el("td", { text: u.summary_state }),
      el("td", { text: u.report_state })));
  });
  fill($("#summaries tbody"), rows);
  filesByName.clear();
  for (const f of s.files) filesByName.set(f.name, f);
  const refused = s.files.filter((f) => f.refused);
  $("#refused-count").textContent = refused.length || "";
  $("#no-refused").hidden = refused.length > 0;
  $("#refused").hidden = refused.length === 0;
  fill($("#refused tbody"), refused.map((f) => el("tr", {}, el("td", { text: f.name }), el("td", { text: f.reason }))));
  updateVerdicts();
}

async function poll() {
  try {
    const s = await getJSON("api/status");
    status = s;
    if (s.version !== statusVersion) {
      statusVersion = s.version;
      renderStatus(s);
    }
  } catch (e) {
    $("#when").textContent = ["401", "403"].includes(e.message)
      ? "访问密钥已失效（程序已重新启动）：请用 xlsx-tool serve 窗口中显示的新地址重新打开本页。"
      : "无法连接本页的程序（可能已停止）。请重新运行 xlsx-tool serve。";
  }
}

$("#only-missing").addEventListener("change", () => status && renderStatus(status));

// ------------------------------------------------------------------ 上传

const verdictRows = [];  // {row, verdicts}

// The merge's last word on an uploaded file: the one chosen for its unit, a repeat, or set aside.
// Returns [text, kind]: kind "ok" (counted), "warn" (a repeat or set aside), "bad" (refused).
function finalText(v) {
  const f = v.file ? filesByName.get(v.file) : null;
  if (!v.ok) return [v.text, "bad"];
  if (!f) return [v.text, "ok"];
  if (f.counted) return [v.text.replace(/^收到：/, "采用："), "ok"];
  if (f.status.startsWith("重复")) return [`未计入：${f.reason}`, "warn"];
  if (f.status.startsWith("未采用")) return [`未采用：${f.reason}（同一单位只采用一份）`, "warn"];
  if (f.status) return [`${f.status}：${f.reason}`, "bad"];
  return [v.text, "ok"];
}

function updateVerdicts() {
  for (const item of verdictRows) {
    if (!item.verdicts) continue;
    const cell = item.row.querySelector(".verdict");
    const lines = item.verdicts.map((v) => {
      const [text, kind] = finalText(v);
      return el("div", { class: kind, text: (item.verdicts.length > 1 && v.file ? `${v.file}：` : "") + text });
    });
    cell.replaceChildren(...lines);
  }
}

function addRow(file) {
  const row = el("tr", {},
    el("td", { class: "n", text: verdictRows.length + 1 }),
    el("td", { text: file.name }),
    el("td", { class: "saved" }),
    el("td", { class: "verdict" }, el("span", { class: "wait", text: "正在上传……" })));
  $("#verdicts tbody").prepend(row);
  const item = { row, verdicts: null };
  verdictRows.push(item);
  return item;
}

function setVerdicts(item, verdicts) {
  item.verdicts = verdicts;
  item.row.querySelector(".saved").textContent = verdicts.length ? verdicts[0].saved : "";
  updateVerdicts();
}

function refuse(item, text) {
  setVerdicts(item, [{ ok: false, saved: "", file: "", text }]);
}

// One request for a few files (at most BATCH_FILES, together at most the size limit).
async function uploadBatch(batch) {
  const body = new FormData();
  for (const [file] of batch) body.append("files", file, file.name);
  try {
    const r = await post("api/upload", body);
    const data = await r.json().catch(() => ({}));
    if (r.ok) batch.forEach(([, item], i) => setVerdicts(item, data.files[i] || []));
    else for (const [, item] of batch) refuse(item, `拒收：${data.error || `服务器拒绝（${r.status}）`}`);
  } catch (e) {
    for (const [, item] of batch) refuse(item, "上传失败：无法连接本页的程序。");
  }
}

function batches(pairs) {
  const out = [];
  let cur = [], bytes = 0;
  for (const pair of pairs) {
    const size = pair[0].size;
    if (size > MAX_BYTES) {
      refuse(pair[1], `拒收：文件 ${(size / 1048576).toFixed(1)} MB，超过 ${MAX_MB} MB 的上限，未保存`);
      continue;
    }
    if (cur.length && (cur.length >= BATCH_FILES || bytes + size > MAX_BYTES)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(pair);
    bytes += size;
  }
  if (cur.length) out.push(cur);
  return out;
}

function setProgress(box, done, total, label) {
  box.hidden = false;
  box.querySelector(".fill").style.width = `${total ? Math.round((100 * done) / total) : 100}%`;
  box.querySelector(".label").textContent = label;
}

async function upload(files) {
  files = Array.from(files);
  if (!files.length) return;
  const started = performance.now();
  const box = $("#upload-progress");
  const queue = batches(files.map((f) => [f, addRow(f)]));
  let done = files.length - queue.reduce((n, b) => n + b.length, 0);
  setProgress(box, done, files.length, `正在上传 ${done}/${files.length}`);
  async function worker() {
    while (queue.length) {
      const batch = queue.shift();
      await uploadBatch(batch);
      done += batch.length;
      setProgress(box, done, files.length, `正在上传 ${done}/${files.length}`);
    }
  }
  await Promise.all(Array.from({ length: Math.min(PARALLEL_UPLOADS, files.length) }, worker));
  await poll();  // the new counts now, not at the next tick
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  setProgress(box, done, files.length, `已上传 ${done}/${files.length} 个文件，用时 ${seconds} 秒`);
}

const input = $("#files");
input.addEventListener("change", () => { upload(input.files).then(() => { input.value = ""; }); });
const drop = $("#drop");
for (const ev of ["dragenter", "dragover"]) drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.add("over"); });
for (const ev of ["dragleave", "drop"]) drop.addEventListener(ev, () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => { e.preventDefault(); upload(e.dataTransfer.files); });
// a file dropped beside the box must not make the browser open it in place of the page
window.addEventListener("dragover", (e) => e.preventDefault());
window.addEventListener("drop", (e) => e.preventDefault());

// ------------------------------------------------------------------ jobs (汇总, 生成评分表)

async function runJob(kind, button, box, problems, onDone) {
  button.disabled = true;
  problems.replaceChildren();
  setProgress(box, 0, 1, "正在开始……");
  try {
    const r = await post(`api/job/${kind}`, null);
    let job = await r.json();
    if (!r.ok) throw new Error(job.error || `${r.status}`);
    while (job.state === "running") {
      setProgress(box, job.done, job.total, `${job.step}（${job.done}/${job.total}）`);
      await new Promise((ok) => setTimeout(ok, 300));
      job = await getJSON(`api/job/${job.id}`);
    }
    setProgress(box, job.total, job.total, job.state === "done" ? "已完成" : "未能完成");
    problems.replaceChildren(...job.problems.map((p) => el("li", { text: p })));
    if (job.result) onDone(job.result);
  } catch (e) {
    setProgress(box, 0, 1, "未能完成");
    problems.replaceChildren(el("li", { text: `出错了：${e.message}` }));
  } finally {
    button.disabled = false;
  }
}

let merged = null;

function card(label, value, cls) {
  return el("div", { class: `card ${cls || ""}` }, el("div", { class: "v", text: value }), el("div", { class: "k", text: label }));
}

function links(list) {
  return list.map((d) => el("a", { href: d.url, download: d.name, text: d.name }));
}

function renderMerge(m) {
  merged = m;
  $("#merge-result").hidden = false;
  $("#merge-cards").replaceChildren(
    card("已收评分表", `${m.received}/${m.expected}`),
    card("读取文件", m.files),
    card("错误", m.errors, m.errors ? "bad" : ""),
    card("警告", m.warnings, m.warnings ? "warn" : ""),
    card("提示", m.infos),
    card("超过三分之一的汇总单位", m.breaches.length, m.breaches.length ? "bad" : ""));
  const b = $("#breaches");
  if (m.breaches.length) {
    b.replaceChildren(el("h3", { text: `违反“${m.rule}”的汇总单位（三分之一规则）` }),
      el("ul", { class: "problems" }, ...m.breaches.map((x) => el("li", {
        text: `${x.summary}：核查 ${x.inspected} 个单位，95分及以上 ${x.high} 个（最多 ${x.quota} 个）：${x.units.join("、")}` }))));
  } else {
    b.replaceChildren(el("p", { class: "hint", text: `各汇总单位均符合“${m.rule}”。` }));
  }
  const d = m.downloads;
  $("#downloads").replaceChildren(
    el("div", {}, el("span", { class: "k", text: "评分汇总表：" }), ...links(d.summary)),
    el("div", {}, el("span", { class: "k", text: "退回修改清单：" }),
      ...(d.lists.length ? links(d.lists) : [el("span", { class: "hint", text: "无（没有需要退回的错误）" })])),
    el("div", {}, el("span", { class: "k", text: "简要核查报告（初稿）：" }), ...links(d.reports)));
  const sel = $("#filter-summary");
  const names = [...new Set(m.findings.map((f) => f.summary).filter(Boolean))];
  sel.replaceChildren(el("option", { value: "", text: "全部" }), ...names.map((n) => el("option", { value: n, text: n })));
  renderFindings();
  renderRankings();
}

function renderFindings() {
  if (!merged) return;
  const s = $("#filter-summary").value;
  const level = $("#filter-level").value;
  const shown = merged.findings.filter((f) => (!s || f.summary === s) && (!level || f.severity === level));
  $("#findings-count").textContent = `${shown.length}/${merged.findings.length}`;
  const sevClass = { 错误: "bad", 警告: "warn" };
  fill($("#findings tbody"), shown.map((f, i) => el("tr", {},
    el("td", { class: "n", text: i + 1 }),
    el("td", { class: `sev ${sevClass[f.severity] || ""}`, text: f.severity }),
    el("td", { text: f.summary }), el("td", { text: f.unit }), el("td", { class: "file", text: f.file }),
    el("td", { text: f.cell }), el("td", { text: f.message }), el("td", { text: f.expected }))));
}

$("#filter-summary").addEventListener("change", renderFindings);
$("#filter-level").addEventListener("change", renderFindings);

function renderRankings() {
  if (!merged) return;
  $("#rank-empty").hidden = true;
  const sel = $("#rank-summary");
  const keep = sel.value;
  sel.replaceChildren(el("option", { value: "", text: "全部" }),
    ...merged.rankings.map((r) => el("option", { value: r.summary, text: r.summary })));
  sel.value = keep;
  const chosen = merged.rankings.filter((r) => !sel.value || r.summary === sel.value);
  $("#rank-tables").replaceChildren(...chosen.map((r) => {
    const notes = [];
    if (r.missing.length) notes.push(`未交（${r.missing.length}个）：${r.missing.join("、")}`);
    notes.push(`95分及以上 ${r.high} 个，上限 ${r.quota} 个${r.breach ? "，超出规定！" : "。"}`);
    return el("div", { class: "rank" },
      el("h3", { text: `${r.summary}（${r.rows.length}/${r.expected}）` }),
      el("table", { class: "grid annex3" },
        el("thead", {}, el("tr", {}, ...["排名", "被核查单位", "特色亮点", "扣分情况", "得分"].map((h) => el("th", { text: h })))),
        el("tbody", {}, ...r.rows.map((x) => el("tr", {},
          el("td", { class: "n", text: x.rank }), el("td", { text: x.unit }), el("td", { class: "pre", text: x.highlights }),
          el("td", { class: "pre", text: x.deductions }), el("td", { class: "num", text: x.score }))))),
      ...notes.map((n) => el("p", { class: r.breach && n.includes("超出") ? "hint bad" : "hint", text: n })));
  }));
}

$("#rank-summary").addEventListener("change", renderRankings);

$("#run-merge").addEventListener("click", () =>
  runJob("merge", $("#run-merge"), $("#merge-progress"), $("#merge-problems"), renderMerge));

function renderZips(zips) {
  fill($("#zips tbody"), zips.map((z, i) => el("tr", {},
    el("td", { class: "n", text: i + 1 }), el("td", { text: z.summary }), el("td", { class: "num", text: z.count }),
    el("td", {}, el("a", { href: z.url, download: z.name, text: z.name })))));
}

$("#run-generate").addEventListener("click", () =>
  runJob("generate", $("#run-generate"), $("#forms-progress"), $("#forms-problems"), (r) => renderZips(r.zips)));

// ------------------------------------------------------------------ start

poll();
setInterval(poll, POLL_MS);
getJSON("api/forms").then((f) => renderZips(f.zips)).catch(() => {});
