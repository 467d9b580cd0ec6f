using System.Text.Json;

namespace DeepSeekMesh.Model.Tests;

/// <summary>One folder of tests/conformance: a checkpoint and what DeepSeek's reference computed for it.</summary>
public sealed record ConformanceCase(string Directory, int[] Prompt, float[][] PromptLogits, int[] Generated, float[][] StepLogits, double Tolerance)
{
    public string Name => Path.GetFileName(Directory);

    public static ConformanceCase Load(string directory)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(directory, "expected.json")));
        var root = doc.RootElement;
        static int[] Ints(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();
        static float[][] Rows(JsonElement e) => e.EnumerateArray().Select(r => r.EnumerateArray().Select(x => x.GetSingle()).ToArray()).ToArray();
        return new ConformanceCase(directory, Ints(root.GetProperty("prompt")), Rows(root.GetProperty("prompt_logits")),
            Ints(root.GetProperty("generated")), Rows(root.GetProperty("step_logits")), root.GetProperty("tolerance").GetDouble());
    }

    public static IEnumerable<object[]> All() => RepoPaths.ConformanceCases().Select(d => new object[] { Path.GetFileName(d) });
}
