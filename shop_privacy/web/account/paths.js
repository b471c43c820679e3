// Where the pages live: the folder above this module's (static/), so a shop may mount them anywhere.

const ROOT = new URL("../", import.meta.url);

export function link(page, query = "") {
  return new URL(page, ROOT).pathname + query;
}
