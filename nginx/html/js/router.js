// Hash routing: the URL fragment names the view (#/memories, #/memories/<id>/edit,
// #/join?token=…). The fragment never reaches the server, so an invitation token in a join
// link stays out of access logs; nginx serves index.html for every path anyway.

/** Parse "#/memories/abc/edit?tag=x" → {path: "/memories/abc/edit", query: URLSearchParams}. */
export function parseHash(hash = window.location.hash) {
  let raw = hash.startsWith('#') ? hash.slice(1) : hash;
  if (!raw.startsWith('/')) raw = `/${raw}`;
  const q = raw.indexOf('?');
  const path = (q === -1 ? raw : raw.slice(0, q)).replace(/\/+$/, '') || '/';
  const query = new URLSearchParams(q === -1 ? '' : raw.slice(q + 1));
  return { path, query };
}

/**
 * A route table of {pattern: "/memories/:id/edit", ...}. match() returns the route and its
 * params, or null.
 */
export class Router {
  constructor(routes) {
    this.routes = routes.map((route) => ({
      ...route,
      regex: new RegExp(`^${route.pattern.replace(/:([a-z_]+)/g, '(?<$1>[^/]+)')}$`),
    }));
  }

  match(path) {
    for (const route of this.routes) {
      const m = route.regex.exec(path);
      if (m) {
        const params = {};
        for (const [k, v] of Object.entries(m.groups || {})) params[k] = decodeURIComponent(v);
        return { route, params };
      }
    }
    return null;
  }
}

/** Go to a view. Query values that are empty are left out. */
export function navigate(path, query = null) {
  const hash = `#${path}${query ? toQuery(query) : ''}`;
  if (window.location.hash === hash) {
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    window.location.hash = hash;
  }
}

/** Change the URL of the current view without rendering it again (filters, for example). */
export function replaceQuery(path, query) {
  const hash = `#${path}${toQuery(query)}`;
  if (window.location.hash !== hash) window.history.replaceState(null, '', hash);
}

function toQuery(query) {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== '') search.set(k, String(v));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}
