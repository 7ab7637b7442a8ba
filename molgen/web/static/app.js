// molgen web app and report: tick-all on the grid, and the 3D pose viewer (3Dmol.js, vendored).
"use strict";

const tickAll = document.getElementById("tick-all");
if (tickAll) {
  tickAll.addEventListener("change", () => {
    for (const box of document.querySelectorAll("#grid input[name=key]")) {
      box.checked = tickAll.checked;
    }
  });
}

// The pose and receptor: fetched from the app, or embedded in the page (a static report
// opened from disk, where fetch cannot read files).
async function poseData(element) {
  if (element.dataset.embedded) {
    return JSON.parse(document.getElementById(element.dataset.embedded).textContent);
  }
  const pose = await (await fetch(element.dataset.pose)).text();
  let receptor = "";
  if (element.dataset.receptor) {
    const response = await fetch(element.dataset.receptor);
    if (response.ok) receptor = await response.text();
  }
  return { pose, receptor };
}

async function showPose(element) {
  const viewer = $3Dmol.createViewer(element, { backgroundColor: "white" });
  const { pose, receptor } = await poseData(element);
  const best = pose.split("$$$$")[0] + "$$$$\n";
  const ligand = viewer.addModel(best, "sdf");
  ligand.setStyle({}, { stick: { colorscheme: "greenCarbon" } });
  if (receptor) {
    const protein = viewer.addModel(receptor, "pdb");
    protein.setStyle({}, {});
    protein.setStyle({ within: { distance: 6, sel: { model: ligand } } }, { line: {} });
  }
  viewer.zoomTo({ model: ligand });
  viewer.render();
  element.dataset.ready = "1";
}

const viewerElement = document.getElementById("viewer");
if (viewerElement && window.$3Dmol) {
  showPose(viewerElement).catch((err) => {
    viewerElement.dataset.ready = "error";
    console.error(err);
  });
}
