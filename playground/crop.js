// A manual crop drawn by dragging on the original: pointer positions become original pixels
// (the preview is scaled), and the box is handed over when the pointer is let go. Keyboard
// and screen-reader users type the same box in the crop fields.

import { drawDragBox } from "./overlay.js";

export class CropTool {
  /** `stage`: the element over the preview `image`; `svg`: the overlay; `size()`: the
   * original's [width, height] or null; `onCrop(box)`: a finished box. */
  constructor({ stage, image, svg, size, onCrop }) {
    this.image = image;
    this.svg = svg;
    this.size = size;
    stage.addEventListener("pointerdown", (event) => this.start(event, stage, onCrop));
  }

  /** The original's pixel under a pointer event, clamped to the image. */
  pixel(event) {
    const [width, height] = this.size();
    const rect = this.image.getBoundingClientRect();
    const x = ((event.clientX - rect.left) / rect.width) * width;
    const y = ((event.clientY - rect.top) / rect.height) * height;
    return [Math.round(Math.min(Math.max(x, 0), width)), Math.round(Math.min(Math.max(y, 0), height))];
  }

  scale() {
    const [width] = this.size();
    return width / Math.max(1, this.image.getBoundingClientRect().width);
  }

  start(event, stage, onCrop) {
    if (!this.size() || event.button !== 0) return;
    event.preventDefault();
    stage.setPointerCapture(event.pointerId);
    const [x0, y0] = this.pixel(event);
    const boxTo = (e) => {
      const [x1, y1] = this.pixel(e);
      return { left: Math.min(x0, x1), top: Math.min(y0, y1), right: Math.max(x0, x1), bottom: Math.max(y0, y1) };
    };
    const move = (e) => drawDragBox(this.svg, boxTo(e), this.scale());
    const up = (e) => {
      stage.removeEventListener("pointermove", move);
      stage.removeEventListener("pointerup", up);
      stage.removeEventListener("pointercancel", up);
      drawDragBox(this.svg, null, 1);
      const box = boxTo(e);
      // A click, or a box a few pixels wide, is not a crop.
      if (e.type === "pointerup" && box.right - box.left >= 2 && box.bottom - box.top >= 2) onCrop(box);
    };
    stage.addEventListener("pointermove", move);
    stage.addEventListener("pointerup", up);
    stage.addEventListener("pointercancel", up);
  }
}
