using System.CommandLine;
using DeepSeekMesh.Silo;
using System.Text.Json;
using DeepSeekMesh.Model.Inference;

namespace DeepSeekMesh.Cli.Commands;

/// <summary><c>dsmesh logits --model DIR --tokens 1,2,3</c> → <c>{"logits":[...]}</c> of the last position.</summary>
public static class LogitsCommand
{
    public static Command Create()
    {
        var model = CliOptions.Model();
        var tokens = CliOptions.Tokens(required: true);
        var compute = new ComputeOptions();
        var command = new Command("logits", "Print the logits of the last prompt position as JSON") { model, tokens };
        compute.AddTo(command);
        command.SetAction(parse =>
        {
            var ids = CliOptions.ParseTokens(parse.GetValue(tokens)!);
            using var transformer = CliOptions.Load(parse.GetValue(model)!, compute.Read(parse));
            if (ids.Any(t => t >= transformer.Config.VocabSize)) throw new UsageException($"--tokens: ids must be below vocab_size {transformer.Config.VocabSize}");
            using var cache = transformer.NewCache(ids.Length);
            using var batch = new ForwardBatch([(cache, ids)], transformer.Options.Device);
            using var logits = transformer.Forward(batch);
            using var json = new Utf8JsonWriter(Console.OpenStandardOutput());
            json.WriteStartObject();
            JsonOutput.WriteFloats(json, "logits", TensorData.ToArray<float>(logits));
            json.WriteEndObject();
            json.Flush();
            Console.Out.WriteLine();
            return 0;
        });
        return command;
    }
}
