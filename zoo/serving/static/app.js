// The page's only script: upload the chosen painting to /predict and /explain, draw the answer.
const $ = (id) => document.getElementById(id);

let coverage = null;  // the calibrated model's set / interval coverage (0-1), null when uncalibrated
fetch("/model").then((r) => r.json()).then((m) => {
  $("model-name").textContent = `${m.name} · ${m.runtime} (${m.backend}) · ${m.input_size.join("×")} px`;
  coverage = m.calibration ? m.calibration.coverage : null;
});

// The calibrated model's extras: the unknown-artist verdict, the artist set, the year interval.
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
  $("year-interval").textContent = p.year_interval ? `(${p.year_interval.map(Math.round).join("–")}${pct})` : "";
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = false;
}

async function post(path, file) {
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
  $("movement-row").hidden = !p.movement;
  if (p.movement) $("movement").textContent = `${p.movement.name} (${(p.movement.p * 100).toFixed(1)}%)`;
  $("year-row").hidden = p.year === undefined;
  if (p.year !== undefined) $("year").textContent = Math.round(p.year);
  drawUncertainty(p);
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
