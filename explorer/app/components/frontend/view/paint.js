// Images on canvases: pixels decoded here or read from the dataset's chunks,
// or a PNG (the server's decode).

// Paints planar pixels [C, H, W] (uint8, or floats in [0, 1]) onto a canvas.
export function paint(canvas, pixels, shape, scale, isFloat) {
  const [C, H, W] = shape;
  const small = document.createElement("canvas");
  small.width = W; small.height = H;
  const g = small.getContext("2d");
  const img = g.createImageData(W, H);
  const at = isFloat ? (k) => Math.floor(pixels[k] * 255 + 0.5) : (k) => pixels[k];
  for (let p = 0; p < H * W; p++) {
    const r = at(p), gr = C === 3 ? at(H * W + p) : r, bl = C === 3 ? at(2 * H * W + p) : r;
    img.data[4 * p] = r; img.data[4 * p + 1] = gr; img.data[4 * p + 2] = bl; img.data[4 * p + 3] = 255;
  }
  g.putImageData(img, 0, 0);
  canvas.width = W * scale; canvas.height = H * scale;
  const v = canvas.getContext("2d");
  v.imageSmoothingEnabled = false;
  v.drawImage(small, 0, 0, canvas.width, canvas.height);
}

export function paintUrl(canvas, src, shape, scale) {
  return new Promise((resolve) => {
    const im = new Image();
    im.onload = () => {
      canvas.width = shape[2] * scale; canvas.height = shape[1] * scale;
      const v = canvas.getContext("2d");
      v.imageSmoothingEnabled = false;
      v.drawImage(im, 0, 0, canvas.width, canvas.height);
      resolve();
    };
    im.onerror = () => resolve();
    im.src = src;
  });
}
