using System.Diagnostics;
using System.Text;
using DeepSeekMesh.Tokenizers;
using DeepSeekMesh.Tokenizers.Bench;

// Usage: DeepSeekMesh.Tokenizers.Bench [tokenizerDir] [megabytes] [runs]
string dir = args.Length > 0 ? args[0] : FindTokenizerDir();
double megabytes = args.Length > 1 ? double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 4;
int runs = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 7;

var loadWatch = Stopwatch.StartNew();
var tokenizer = Tokenizer.FromDirectory(dir);
Console.WriteLine($"Loaded tokenizer from {dir} in {loadWatch.ElapsedMilliseconds} ms (vocab {tokenizer.VocabSize}).");

string text = CorpusGenerator.Build((int)(megabytes * 1_000_000));
int bytes = Encoding.UTF8.GetByteCount(text);
Console.WriteLine($"Corpus: {bytes / 1e6:F2} MB UTF-8 ({text.Length} chars), mixed prose / C# / Python / misc.");

// Warm-up (JIT tiers, cache).
for (int i = 0; i < 2; i++)
{
    tokenizer.Encode(text, addBos: false);
}

Measure("warm cache", clearCache: false);
Measure("cold cache (cache cleared before each run)", clearCache: true);

void Measure(string label, bool clearCache)
{
    var rates = new List<double>();
    int tokens = 0;
    for (int r = 0; r < runs; r++)
    {
        if (clearCache)
        {
            tokenizer.ClearCache();
        }
        var sw = Stopwatch.StartNew();
        tokens = tokenizer.Encode(text, addBos: false).Length;
        sw.Stop();
        rates.Add(bytes / 1e6 / sw.Elapsed.TotalSeconds);
    }
    rates.Sort();
    double median = rates[rates.Count / 2];
    Console.WriteLine($"{label}: median {median:F2} MB/s over {runs} runs (min {rates[0]:F2}, max {rates[^1]:F2}); {tokens} tokens, {bytes / (double)tokens:F2} bytes/token");
}

static string FindTokenizerDir()
{
    for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
    {
        string candidate = Path.Combine(d.FullName, "assets", "tokenizer", "deepseek-v3");
        if (File.Exists(Path.Combine(candidate, "tokenizer.json")))
        {
            return candidate;
        }
    }
    throw new DirectoryNotFoundException("assets/tokenizer/deepseek-v3 not found; pass the tokenizer directory as the first argument.");
}
