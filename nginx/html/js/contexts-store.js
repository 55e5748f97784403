// The tenant's contexts, loaded once and shared by the views that need their names (memory
// lists, filters, forms). Any change to contexts calls invalidateContexts().

import { getAll } from './api.js';
import { onSessionChange } from './session.js';

let cache = null;

export function loadContexts({ force = false } = {}) {
  if (!cache || force) {
    cache = getAll('/contexts').catch((error) => {
      cache = null;
      throw error;
    });
  }
  return cache;
}

export function invalidateContexts() {
  cache = null;
}

/** {id → name} for the loaded contexts. */
export async function contextNames() {
  const list = await loadContexts();
  return new Map(list.map((c) => [c.id, c.name]));
}

// Another user logging in on this page must not see the last one's contexts.
onSessionChange(() => invalidateContexts());
