// The demo's only script: a checklist of the deploy chain. It fetches nothing, so the page
// works from any bucket, prefix or CDN without a backend.
import "./style.css";

const STEPS = [
  ["backend", "ecs deploy", "roll the service to the new image and wait for a true verdict"],
  ["frontend", "site deploy", "upload changed files by content hash, entry points last"],
  ["cdn", "invalidation", "invalidate only the paths whose cached copies are stale"],
  ["nginx", "nginx build", "rebuild the front image without a Docker daemon"],
];

const list = document.querySelector("#steps");

for (const [id, command, what] of STEPS) {
  const item = document.createElement("li");
  const label = document.createElement("label");
  const box = document.createElement("input");
  box.type = "checkbox";
  box.id = `step-${id}`;
  const name = document.createElement("code");
  name.textContent = `deckhand ${command}`;
  const text = document.createElement("span");
  text.textContent = ` ${what}`;
  label.append(box, name, text);
  item.append(label);
  list.append(item);
}

const status = document.createElement("p");
status.className = "status";
status.setAttribute("aria-live", "polite");
list.after(status);

function update() {
  const boxes = [...list.querySelectorAll("input")];
  const done = boxes.filter((b) => b.checked).length;
  status.textContent =
    done === boxes.length ? "All shipped." : `${done} of ${boxes.length} steps done.`;
  document.body.classList.toggle("shipped", done === boxes.length);
}

list.addEventListener("change", update);
update();
