// A model's sliders: its coordinates in the map's basis, one range input
// each; a live model decodes as they move, and their release tells Python.
import * as events from "./events.js";
import { coordinates, setAll } from "./linalg.js";
import { fill, words } from "./words.js";

// ``dec``: the model's Decoded (strip.js), whose basis the sliders follow.
export function buildSliders(dec) {
  dec.slidersEl.replaceChildren();
  const b = dec.m.basis;
  b.labels.forEach((label, k) => {
    const row = document.createElement("div"); row.className = "lx-srow";
    const [lo, hi] = b.ranges[k];
    const head = document.createElement("label"), name = document.createElement("span");
    const out = document.createElement("span");
    name.textContent = label; out.className = "lx-v";
    head.append(name, out);
    const input = document.createElement("input");
    Object.assign(input, { type: "range", min: lo, max: hi, step: (hi - lo) / 200 });
    // "live z[0]" while it decodes here; "z[0]" when the server decodes
    input.setAttribute("aria-label", dec.live ? fill(words(dec.view.d).live, { label }) : label);
    row.append(head, input);
    input.addEventListener("pointerdown", () => { dec.dragging = true; });
    input.addEventListener("input", () => {
      if (!dec.values) return;
      dec.values[k] = +input.value; out.textContent = dec.values[k].toFixed(2);
      dec.stats.inputs++;
      if (dec.live) dec.schedule();
    });
    input.addEventListener("change", () => {
      dec.dragging = false;
      const z = setAll(dec.m.basis, dec.z0, dec.values);
      dec.z = z;
      if (!dec.live) dec.canvas.classList.add("lx-waiting");
      dec.view.moveCursor(dec.m.slot, z);
      dec.view.tell(events.slider(dec.m.slot, dec.values.slice()));
    });
    dec.slidersEl.appendChild(row);
  });
}

// The sliders at z (the browser's or Python's cursor), unless being dragged.
export function syncSliders(dec, z) {
  if (dec.dragging) return;
  const b = dec.m.basis;
  dec.z0 = z.slice();
  dec.values = coordinates(b, z);
  dec.slidersEl.querySelectorAll(".lx-srow").forEach((row, k) => {
    const [lo, hi] = b.ranges[k];
    row.querySelector("input").value = Math.min(Math.max(dec.values[k], lo), hi);
    row.querySelector(".lx-v").textContent = dec.values[k].toFixed(2);
  });
}
