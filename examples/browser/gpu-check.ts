/** Whether this page can use WebGPU, and the plain message (with a CPU fallback) when it cannot. */

export type GpuStatus = { ok: true } | { ok: false; reason: string };

export async function webgpuStatus(): Promise<GpuStatus> {
  if (!window.isSecureContext)
    return { ok: false, reason: "This page is not a secure context, and WebGPU exists only in one: open it over https:// or from http://localhost / http://127.0.0.1." };
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu)
    return { ok: false, reason: "This browser has no WebGPU (navigator.gpu is missing). Chrome and Edge 113+ have it; on Linux, start Chromium with --enable-unsafe-webgpu." };
  try {
    if (!(await gpu.requestAdapter())) return { ok: false, reason: "This browser supports WebGPU, but it found no GPU adapter to run it on (the GPU may be blocklisted, or WebGPU turned off in the browser's settings or flags)." };
  } catch (e) {
    return { ok: false, reason: `Asking for a WebGPU adapter failed: ${(e as Error).message}` };
  }
  return { ok: true };
}

/** Show why WebGPU is unavailable, with a button that carries on with the CPU backend. */
export function showNoWebgpu(el: HTMLElement, reason: string, onCpu: () => void): void {
  el.hidden = false;
  el.className = "notice";
  el.replaceChildren();
  const p = document.createElement("p");
  p.textContent = `WebGPU is not available on this page. ${reason}`;
  const q = document.createElement("p");
  q.textContent = "webgrad's CPU backend runs the same code in plain JavaScript: slower, but it works everywhere.";
  const b = document.createElement("button");
  b.id = "use-cpu";
  b.textContent = "Use the CPU backend";
  b.onclick = () => {
    b.disabled = true;
    onCpu();
  };
  el.append(p, q, b);
}

export function showError(el: HTMLElement, message: string): void {
  el.hidden = false;
  el.className = "notice error";
  el.textContent = message;
}
