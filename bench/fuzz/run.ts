// Entry point of `npm run fuzz`; filled in by the harness modules beside it.
console.error('usage: npm run fuzz -- --target url|form|rest|range --cases N --seed S');
process.exit(2);
