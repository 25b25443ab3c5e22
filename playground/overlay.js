// What meta/ says, drawn over the original: the trim and manual crop boxes, the part the
// aspect crop keeps, and the focal points. meta/ gives each crop in the coordinates of the
// image the crop before it left, and the focal points in those after trim and manual crop; the
// offsets are added back here so that everything lands on the original's pixels.

const SVG = "http://www.w3.org/2000/svg";

function shape(tag, attributes) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

/** Size the overlay to the original's pixels (`width` x `height`) and clear it. */
export function resetOverlay(svg, width, height) {
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("preserveAspectRatio", "none");
  svg.replaceChildren();
}

/** The boxes and points of a meta/ answer (`meta.thumbor`) for `params`, in original pixels. */
export function metaShapes(thumbor, params) {
  const crops = thumbor.operations.filter((op) => op.type === "crop");
  const named = [...(params.trim ? ["trim"] : []), ...(params.crop ? ["crop"] : [])];
  const boxes = [];
  let x = 0;
  let y = 0;
  let focalX = 0;
  let focalY = 0;
  crops.forEach((op, index) => {
    const kind = named[index] || "kept";
    boxes.push({ kind, left: op.left + x, top: op.top + y, right: op.right + x, bottom: op.bottom + y });
    x += op.left;
    y += op.top;
    if (index < named.length) { focalX = x; focalY = y; }
  });
  const points = thumbor.focal_points.map((p) => ({
    origin: p.origin, x: p.x + focalX, y: p.y + focalY, width: p.width, height: p.height,
  }));
  return { boxes, points };
}

/** Draw `shapes` (metaShapes) on the overlay, lines `scale` original pixels wide. */
export function drawShapes(svg, { boxes, points }, scale) {
  for (const box of boxes) {
    svg.append(shape("rect", {
      class: `box ${box.kind}`, x: box.left, y: box.top,
      width: box.right - box.left, height: box.bottom - box.top, "stroke-width": 2 * scale,
    }));
  }
  for (const point of points) {
    const w = Math.max(point.width, 6 * scale);
    const h = Math.max(point.height, 6 * scale);
    svg.append(shape("rect", {
      class: "focal", "data-origin": point.origin, x: point.x - w / 2, y: point.y - h / 2,
      width: w, height: h, "stroke-width": 2 * scale,
    }));
  }
}

/** The box being dragged, in original pixels (or none). */
export function drawDragBox(svg, box, scale) {
  svg.querySelector(".drawing")?.remove();
  if (!box) return;
  svg.append(shape("rect", {
    class: "drawing", x: box.left, y: box.top, width: box.right - box.left,
    height: box.bottom - box.top, "stroke-width": 2 * scale,
  }));
}
