using System.CommandLine;
using DeepSeekMesh.Silo;
using System.Diagnostics;
using System.Text.Json;
using DeepSeekMesh.ChatTemplates;
using DeepSeekMesh.Model.Engine;
using DeepSeekMesh.Sampling;
using DeepSeekMesh.Text;

namespace DeepSeekMesh.Cli.Commands;

/// <summary>
/// <c>dsmesh generate --model DIR --tokens 1,2,3 --max-tokens N --temperature 0 --json [--logits]</c>:
/// generates over the KV cache and prints the tokens (and per-token logits, and timing) as JSON.
/// <c>dsmesh generate --model DIR --prompt TEXT [--chat] [--stop STR]…</c>: streams the generated
/// text, tokenized exactly as the gateway tokenizes it (<see cref="TextCodec"/>).
/// </summary>
public static class GenerateCommand
{
    public static Command Create()
    {
        var model = CliOptions.Model();
        var tokens = CliOptions.Tokens(required: false);
        var prompt = new Option<string?>("--prompt") { Description = "prompt text; the generated text streams to stdout" };
        var chat = new Option<bool>("--chat") { Description = "with --prompt: send it as a user message through the chat template" };
        var tokenizer = new Option<DirectoryInfo?>("--tokenizer") { Description = "tokenizer directory (default: the model directory)" };
        var stop = new Option<string[]>("--stop") { Description = "stop string (repeatable); not included in the output" };
        var maxTokens = new Option<int>("--max-tokens") { Description = "tokens to generate", DefaultValueFactory = _ => 16 };
        var temperature = new Option<float>("--temperature") { Description = "0 = greedy", DefaultValueFactory = _ => 0f };
        var topP = new Option<float>("--top-p") { Description = "nucleus sampling mass in (0, 1]", DefaultValueFactory = _ => 1f };
        var topK = new Option<int>("--top-k") { Description = "sample among the k most likely tokens (0 = all)", DefaultValueFactory = _ => 0 };
        var seed = new Option<ulong?>("--seed") { Description = "random seed: the same seed gives the same output" };
        var ignoreEos = new Option<bool>("--ignore-eos") { Description = "keep generating past the end-of-sequence token" };
        var json = new Option<bool>("--json") { Description = "print {\"tokens\", \"logits\", \"timing\"} as JSON" };
        var logits = new Option<bool>("--logits") { Description = "with --json: include the logits that chose each token" };
        var compute = new ComputeOptions();
        var command = new Command("generate", "Generate tokens after a prompt")
        {
            model, tokens, prompt, chat, tokenizer, stop, maxTokens, temperature, topP, topK, seed, ignoreEos, json, logits,
        };
        compute.AddTo(command);
        command.SetAction(parse =>
        {
            var sampling = new SamplingParams
            {
                Temperature = parse.GetValue(temperature),
                TopP = parse.GetValue(topP),
                TopK = parse.GetValue(topK),
                Seed = parse.GetValue(seed),
                MaxTokens = parse.GetValue(maxTokens),
                IgnoreEos = parse.GetValue(ignoreEos),
            };
            if (parse.GetValue(prompt) is { } text)
                return StreamText(parse.GetValue(model)!, parse.GetValue(tokenizer), text, parse.GetValue(chat), parse.GetValue(stop) ?? [], sampling,
                    compute.Read(parse));
            var ids = CliOptions.ParseTokens(parse.GetValue(tokens) ?? throw new UsageException("give --tokens or --prompt"));
            var clock = Stopwatch.StartNew();
            using var transformer = CliOptions.Load(parse.GetValue(model)!, compute.Read(parse));
            double loadSeconds = clock.Elapsed.TotalSeconds;
            bool keepLogits = parse.GetValue(logits);
            using var engine = new OfflineEngine(transformer);
            var (results, timing) = engine.Generate([new EngineRequest(ids, sampling)], keepLogits);
            var result = results[0];
            if (!parse.GetValue(json))
            {
                Console.Out.WriteLine(string.Join(",", result.Tokens.Select(t => t.TokenId)));
                return 0;
            }
            using var writer = new Utf8JsonWriter(Console.OpenStandardOutput());
            writer.WriteStartObject();
            writer.WriteStartArray("tokens");
            foreach (var t in result.Tokens) writer.WriteNumberValue(t.TokenId);
            writer.WriteEndArray();
            if (result.Logits is { } rows)
            {
                writer.WriteStartArray("logits");
                foreach (var row in rows)
                {
                    writer.WriteStartArray();
                    foreach (var v in row) writer.WriteNumberValue(v);
                    writer.WriteEndArray();
                }
                writer.WriteEndArray();
            }
            writer.WriteString("finish_reason", result.FinishReason == FinishReason.Stop ? "stop" : "length");
            writer.WriteStartObject("timing");
            writer.WriteNumber("load_s", Math.Round(loadSeconds, 4));
            writer.WriteNumber("prefill_s", Math.Round(timing.PrefillSeconds, 4));
            writer.WriteNumber("decode_tokens_per_s", Math.Round(timing.DecodeTokensPerSecond, 3));
            writer.WriteEndObject();
            writer.WriteEndObject();
            writer.Flush();
            Console.Out.WriteLine();
            return 0;
        });
        return command;
    
    }

    static int StreamText(DirectoryInfo modelDir, DirectoryInfo? tokenizerDir, string text, bool chat, string[] stop, SamplingParams sampling, Model.ModelOptions options)
    {
        var dir = (tokenizerDir ?? modelDir).FullName;
        if (!TextCodec.Exists(dir)) throw new UsageException($"no tokenizer.json in {dir}: pass --tokenizer DIR");
        var codec = TextCodec.FromDirectory(dir);
        var ids = chat ? codec.EncodeChat([ChatMessage.User(text)]) : codec.EncodePrompt(text);
        using var transformer = CliOptions.Load(modelDir, options);
        var stream = codec.NewStream(stop);
        var stdout = Console.Out;
        using var engine = new OfflineEngine(transformer);
        engine.Generate([new EngineRequest(ids, sampling)], onToken: (_, token) =>
        {
            if (!token.IsStopToken) stdout.Write(stream.Push(token.TokenId));
            stdout.Flush();
            return !stream.Stopped;
        });
        stdout.Write(stream.Finish());
        stdout.WriteLine();
        return 0;
    }
}
