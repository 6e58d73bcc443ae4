// The page's only script: upload the chosen painting to /predict and /explain, draw the answer.
const $ = (id) => document.getElementById(id);

let coverage = null;  // the calibrated model's set / interval coverage (0-1), null when uncalibrated
let maxBody = null;  // the server's upload limit in bytes (--max-body-mb)
fetch("/model").then((r) => r.json()).then((m) => {
  $("model-name").textContent = `${m.name} · ${m.runtime} (${m.backend}) · ${m.input_size.join("×")} px`;
  coverage = m.calibration ? m.calibration.coverage : null;
  maxBody = m.max_body_bytes;
});

// The calibrated model's artist extras: the unknown-artist verdict and the artist set.
function drawUncertainty(p) {
  const v = $("verdict");
  v.hidden = !p.unknown;
  if (p.unknown) {
    const cmp = p.unknown.unknown ? "<" : "≥";
    v.textContent = `${p.unknown.verdict} (${p.unknown.kind} score ${p.unknown.score.toFixed(3)} ${cmp} ` +
      `threshold ${p.unknown.threshold.toFixed(3)})`;
    v.className = p.unknown.unknown ? "unknown" : "known";
  }
  const pct = coverage ? ` at ${Math.round(coverage * 100)} % coverage` : "";
  $("set-row").hidden = !p.artist_set;
  if (p.artist_set) {
    $("set-label").textContent = `Artist set${pct}`;
    $("artist-set").textContent = p.artist_set.length ? p.artist_set.join(" · ") : "none of these artists";
  }
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = false;
}

async function post(path, file) {
  if (maxBody !== null && file.size > maxBody) {  // refused here, before the upload starts
    const mb = (n) => (n / 2 ** 20).toFixed(1);
    throw new Error(`${file.name} is ${mb(file.size)} MB; this server takes uploads up to ${mb(maxBody)} MB`);
  }
  const form = new FormData();
  form.append("image", file, file.name);
  const response = await fetch(path, { method: "POST", body: form });
  if (!response.ok) {
    const body = await response.json().catch(() => ({ error: response.statusText }));
    throw new Error(body.error || response.statusText);
  }
  return response;
}

function drawPrediction(p) {
  const list = $("artists");
  list.replaceChildren();
  for (const a of p.artists || []) {
    const li = document.createElement("li");
    const name = document.createElement("span");
    name.textContent = a.name;
    const bar = document.createElement("div");
    bar.className = "bar";
    bar.style.width = `${Math.max(1, a.p * 100)}%`;
    const pct = document.createElement("span");
    pct.textContent = `${(a.p * 100).toFixed(1)}%`;
    li.append(name, bar, pct);
    list.append(li);
  }
  $("top1").textContent = p.artists && p.artists.length ? p.artists[0].name : "–";
  drawHeads(p);
  drawUncertainty(p);
}

// Every other head of the model, in its order: a class head as "name (p %)" (and its set), a
// numeric one rounded (and its interval). The sets / intervals / verdict keys are not heads.
function drawHeads(p) {
  const heads = $("heads");
  heads.replaceChildren();
  const pct = coverage ? ` at ${Math.round(coverage * 100)} % coverage` : "";
  for (const [task, value] of Object.entries(p)) {
    if (["artists", "image", "error", "unknown"].includes(task) || /_(set|interval)$/.test(task)) continue;
    const row = document.createElement("p");
    row.id = `head-${task}`;
    const strong = document.createElement("strong");
    strong.textContent = typeof value === "number" ? Math.round(value)
      : `${value.name} (${(value.p * 100).toFixed(1)}%)`;
    row.append(`${task.charAt(0).toUpperCase()}${task.slice(1).replace(/_/g, " ")}: `, strong);
    const extra = p[`${task}_interval`] ? p[`${task}_interval`].map(Math.round).join("–")
      : p[`${task}_set`] ? `set: ${p[`${task}_set`].join(" · ") || "none"}` : null;
    if (extra) {
      const note = document.createElement("span");
      note.className = "note";
      note.textContent = ` (${extra}${pct})`;
      row.append(note);
    }
    heads.append(row);
  }
}

async function analyse(file) {
  $("error").hidden = true;
  $("preview").src = URL.createObjectURL(file);
  try {
    const prediction = await (await post("/predict", file)).json();
    drawPrediction(prediction);
    $("result").hidden = false;
    document.body.dataset.state = "predicted";
    const png = await (await post("/explain", file)).blob();
    $("heatmap").src = URL.createObjectURL(png);
    document.body.dataset.state = "explained";
  } catch (err) {
    showError(err.message);
    document.body.dataset.state = "error";
  }
}

$("file").addEventListener("change", (e) => e.target.files[0] && analyse(e.target.files[0]));
const drop = $("drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  if (e.dataTransfer.files[0]) analyse(e.dataTransfer.files[0]);
});
