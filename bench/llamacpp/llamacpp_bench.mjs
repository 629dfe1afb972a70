// Prompt and generation speed of llama.cpp on one GGUF file, measured the way `slm bench`
// measures slmd: a prompt of P token ids in one evaluation, then N tokens generated
// greedily one at a time, median of R runs after a warm-up, fixed thread count.
// llama.cpp comes from the npm package node-llama-cpp (prebuilt, with CPU variants chosen
// at run time; nothing is compiled). Prints one JSON object.
//
// usage: node llamacpp_bench.mjs MODEL THREADS [PROMPT=128] [GEN=32] [REPEATS=5]
import {getLlama, LlamaLogLevel} from "node-llama-cpp";

const [modelPath, threadsArg, promptArg, genArg, repeatsArg] = process.argv.slice(2);
if (!modelPath || !threadsArg) {
    console.error("usage: node llamacpp_bench.mjs MODEL THREADS [PROMPT] [GEN] [REPEATS]");
    process.exit(2);
}
const threads = Number(threadsArg), nPrompt = Number(promptArg ?? 128);
const nGen = Number(genArg ?? 32), repeats = Number(repeatsArg ?? 5);

const llama = await getLlama({gpu: false, build: "never", maxThreads: threads,
                              logLevel: LlamaLogLevel.error});
const model = await llama.loadModel({modelPath, gpuLayers: 0});
const context = await model.createContext({contextSize: nPrompt + nGen + 16,
                                           batchSize: Math.max(nPrompt, 32), threads,
                                           sequences: 1});
const sequence = context.getSequence();
// Ids inside every vocabulary, past the usual special tokens.
const prompt = Array.from({length: nPrompt}, (_, i) => 100 + (i * 37) % 900);

function median(values) {
    const s = [...values].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function once() {
    await sequence.clearHistory();
    let t0 = performance.now();
    await sequence.evaluateWithoutGeneratingNewTokens(prompt);
    const pp = nPrompt / ((performance.now() - t0) / 1000);
    // generation: the first token comes from the prompt's last logits, as in slm bench
    let generated = 0;
    t0 = performance.now();
    for await (const token of sequence.evaluate([prompt[0]], {temperature: 0})) {
        void token;
        if (++generated >= nGen)
            break;
    }
    const tg = generated / ((performance.now() - t0) / 1000);
    return {pp, tg};
}

await once(); // warm-up: pages in the weights, sizes the buffers
const pps = [], tgs = [];
for (let r = 0; r < repeats; r++) {
    const {pp, tg} = await once();
    pps.push(pp);
    tgs.push(tg);
}
const summary = (v) => ({median: median(v), min: Math.min(...v), max: Math.max(...v)});
console.log(JSON.stringify({engine: "llama.cpp (node-llama-cpp)", model: modelPath, threads,
                            prompt: nPrompt, generate: nGen, repeats,
                            cpu_variant: llama.buildType ?? null,
                            pp_tps: summary(pps), tg_tps: summary(tgs)}));
await context.dispose();
await model.dispose();
await llama.dispose();
