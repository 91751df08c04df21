// The view layer: preact's h bound to htm's tagged templates, and the hooks.
// Every value interpolated into html`` becomes a text node or a property,
// never markup: no string is ever parsed as HTML (tests/test_web.c checks).
import { h, render, Fragment } from '/vendor/preact/preact.mjs';
import htm from '/vendor/htm/htm.mjs';
export { useState, useEffect, useRef, useCallback, useMemo } from '/vendor/preact/hooks.mjs';

export const html = htm.bind(h);
export { render, Fragment };
