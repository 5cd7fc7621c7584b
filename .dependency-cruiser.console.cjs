/**
 * The console's .tsx components, which swc (the main config's parser) cannot read: Babel's
 * TypeScript preset parses them (it drops type-only imports, which these rules allow anyway).
 * The rules are the main config's; `npm run lint:deps` runs both.
 */
const main = require('./.dependency-cruiser.cjs');

module.exports = {
  forbidden: main.forbidden,
  options: {
    ...main.options,
    parser: undefined,
    babelConfig: { fileName: '.dependency-cruiser.babel.json' },
    exclude: { path: ['^packages/[^/]+/dist/'] },
  },
};
