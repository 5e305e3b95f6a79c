// Small linear algebra: a map's projection and its inverse, a basis's sliders.

const dot = (a, b) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * b[i]; return s; };
// A linear map (projection.Projection, or one aligned to the other map):
// p = (z - mean) @ components.T + offset, and z = mean + (p - offset) @ back.
export function project(pr, z) {  // map coordinates of z
  const c = z.map((v, i) => v - pr.mean[i]);
  return [dot(c, pr.components[0]) + pr.offset[0], dot(c, pr.components[1]) + pr.offset[1]];
}
export function inverse(pr, x, y) {  // the latent point on the map's plane under (x, y)
  const u = x - pr.offset[0], v = y - pr.offset[1];
  return pr.mean.map((m, j) => m + u * pr.back[0][j] + v * pr.back[1][j]);
}
export const coordinates = (basis, z) => basis.components.map((c) => dot(z.map((v, i) => v - basis.mean[i]), c));
export function setAll(basis, z, values) {
  const now = coordinates(basis, z), out = z.slice();
  values.forEach((v, k) => { const d = v - now[k]; basis.components[k].forEach((c, j) => { out[j] += d * c; }); });
  return out;
}

