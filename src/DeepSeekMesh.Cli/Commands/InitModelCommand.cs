using System.CommandLine;
using DeepSeekMesh.Model.Presets;

namespace DeepSeekMesh.Cli.Commands;

/// <summary><c>dsmesh init-model --preset tiny|small|v3-topology --out DIR [--seed S] [--dtype bf16|fp8] [--tokenizer DIR]</c>.</summary>
public static class InitModelCommand
{
    public static Command Create()
    {
        var preset = new Option<string>("--preset") { Description = $"one of: {string.Join(", ", ModelPreset.Names)}", Required = true };
        preset.AcceptOnlyFromAmong([.. ModelPreset.Names]);
        var output = new Option<DirectoryInfo>("--out") { Description = "directory to write the checkpoint into", Required = true };
        var seed = new Option<ulong>("--seed") { Description = "weights seed", DefaultValueFactory = _ => 0 };
        var dtype = new Option<string>("--dtype") { Description = "bf16 or fp8 (E4M3, 128x128 block scales)", DefaultValueFactory = _ => "bf16" };
        dtype.AcceptOnlyFromAmong("bf16", "fp8");
        var tokenizer = new Option<DirectoryInfo?>("--tokenizer") { Description = "copy tokenizer.json + tokenizer_config.json from here; vocab covers them" };
        var command = new Command("init-model", "Write a random-weight DeepSeek-V3 checkpoint in HuggingFace format") { preset, output, seed, dtype, tokenizer };
        command.SetAction(parse =>
        {
            var dir = parse.GetValue(output)!.FullName;
            var tokenizerDir = parse.GetValue(tokenizer)?.FullName;
            if (tokenizerDir is not null && !File.Exists(Path.Combine(tokenizerDir, "tokenizer.json")))
                throw new UsageException($"--tokenizer: {Path.Combine(tokenizerDir, "tokenizer.json")} not found");
            using var bar = new ProgressBar("writing", Console.IsErrorRedirected);
            ModelPreset.WriteDemo(dir, parse.GetValue(preset)!, parse.GetValue(seed), tokenizerDir,
                parse.GetValue(dtype) == "fp8" ? CheckpointDtype.Fp8 : CheckpointDtype.Bf16, bar.Report);
            Console.Out.WriteLine(dir);
            return 0;
        });
        return command;
    }
}
