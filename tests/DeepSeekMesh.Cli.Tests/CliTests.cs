using System.Text.Json;

namespace DeepSeekMesh.Cli.Tests;

/// <summary>The verbs' exact forms (scripts and later checks use them) against the conformance vectors.</summary>
public sealed class CliTests
{
    static string Case(string name) => Path.Combine(RepoPaths.Conformance, name);

    public static IEnumerable<object[]> Cases() =>
        Directory.GetDirectories(RepoPaths.Conformance, "tiny-*").Order().Select(d => new object[] { Path.GetFileName(d) });

    static JsonElement Expected(string name) => JsonDocument.Parse(File.ReadAllText(Path.Combine(Case(name), "expected.json"))).RootElement;

    static string Ids(JsonElement array) => string.Join(",", array.EnumerateArray().Select(x => x.GetInt32()));

    [Theory]
    [MemberData(nameof(Cases))]
    public void GeneratePrintsTheReferenceGreedyTokens(string name)
    {
        var expected = Expected(name);
        var (code, stdout, stderr) = DsmeshProcess.Run("generate", "--model", Case(name), "--tokens", Ids(expected.GetProperty("prompt")),
            "--max-tokens", "8", "--temperature", "0", "--json", "--logits", "--ignore-eos");
        Assert.True(code == 0, stderr);
        var output = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(Ids(expected.GetProperty("generated")), Ids(output.GetProperty("tokens")));
        var first = output.GetProperty("logits")[0].EnumerateArray().Select(x => x.GetSingle()).ToArray();
        var reference = expected.GetProperty("step_logits")[0].EnumerateArray().Select(x => x.GetSingle()).ToArray();
        Assert.True(first.Zip(reference).Max(p => Math.Abs(p.First - p.Second)) <= 1e-4);
        Assert.True(output.GetProperty("timing").GetProperty("decode_tokens_per_s").GetDouble() > 0);
    }

    [Fact]
    public void LogitsPrintsTheLastPosition()
    {
        var expected = Expected("tiny-b");
        var (code, stdout, stderr) = DsmeshProcess.Run("logits", "--model", Case("tiny-b"), "--tokens", Ids(expected.GetProperty("prompt")));
        Assert.True(code == 0, stderr);
        var logits = JsonDocument.Parse(stdout).RootElement.GetProperty("logits").EnumerateArray().Select(x => x.GetSingle()).ToArray();
        var promptLogits = expected.GetProperty("prompt_logits");
        var reference = promptLogits[promptLogits.GetArrayLength() - 1].EnumerateArray().Select(x => x.GetSingle()).ToArray();
        Assert.Equal(reference.Length, logits.Length);
        Assert.True(logits.Zip(reference).Max(p => Math.Abs(p.First - p.Second)) <= 1e-4);
    }

    [Fact]
    public void InspectSummarizesWithoutLoading()
    {
        var (code, stdout, _) = DsmeshProcess.Run("inspect", "--model", Case("tiny-c"));
        Assert.Equal(0, code);
        Assert.Contains("FP8 E4M3, 128x128 block scales", stdout);
        Assert.Contains("KV cache         960 bytes per token in f32", stdout);
        // FP8 stays FP8: an expert holds its checkpoint bytes (98,328) plus a 4-byte scale-row index per output row.
        Assert.Contains("expert resident  fp8 100,376, bf16 196,608, f32 393,216 bytes each", stdout);
    }

    [Fact]
    public void InspectDevicesChecksTheLibTorchBeforeLoadingIt()
    {
        var (code, stdout, stderr) = DsmeshProcess.Run("inspect", "--devices", "--require", "cpu");
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("built for libtorch 2.10.0", stdout);
        Assert.Matches(@"symbols +(\d+) of \1 libtorch symbols LibTorchSharp needs", stdout);
        Assert.Contains("cpu check        [2,2]·[2,2] of ones = 2", stdout);
        Assert.Contains("verdict          ok", stdout);
        var cuda = DsmeshProcess.Run("inspect", "--devices", "--require", "cuda");
        Assert.Equal(1, cuda.ExitCode); // no CUDA in the default build
    }

    [Fact]
    public void GenerateInBf16KeepsTheReferenceTokens()
    {
        var expected = Expected("tiny-a");
        var (code, stdout, stderr) = DsmeshProcess.Run("generate", "--model", Case("tiny-a"), "--tokens", Ids(expected.GetProperty("prompt")),
            "--max-tokens", "8", "--temperature", "0", "--json", "--ignore-eos", "--compute", "bf16");
        Assert.True(code == 0, stderr);
        Assert.Equal(Ids(expected.GetProperty("generated")), Ids(JsonDocument.Parse(stdout).RootElement.GetProperty("tokens")));
    }

    [Fact]
    public void TokenizeMatchesTheVectors()
    {
        var vectors = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoPaths.Conformance, "tokenizer", "vectors.json"))).RootElement;
        var first = vectors.GetProperty("encode")[0];
        var tokenizer = RepoPaths.TokenizerDirectory;
        var text = first.GetProperty("text").GetString()!;
        var (code, stdout, stderr) = DsmeshProcess.Run("tokenize", "--tokenizer", tokenizer, "--text", text, "--add-bos");
        Assert.True(code == 0, stderr);
        Assert.Equal(Ids(first.GetProperty("ids_with_bos")), Ids(JsonDocument.Parse(stdout).RootElement));
    }

    [Fact]
    public void InitModelThenChatStreamsText()
    {
        var dir = Scratch.NewDirectory("cli-");
        var tokenizer = RepoPaths.TokenizerDirectory;
        var init = DsmeshProcess.Run("init-model", "--preset", "tiny", "--out", dir, "--tokenizer", tokenizer, "--seed", "4");
        Assert.True(init.ExitCode == 0, init.Stderr);
        var (code, stdout, stderr) = DsmeshProcess.Run("generate", "--model", dir, "--prompt", "Hello", "--chat", "--max-tokens", "12", "--ignore-eos");
        Assert.True(code == 0, stderr);
        Assert.False(string.IsNullOrWhiteSpace(stdout));
        Assert.DoesNotContain('\uFFFD', stdout);
    }

    [Theory]
    [InlineData("generate --model /nonexistent --tokens 1", "config.json: not found")]
    [InlineData("generate --model MODEL --tokens 1,x", "--tokens: 'x' is not a token id")]
    [InlineData("generate --model MODEL --tokens 1 --temperature -1", "temperature")]
    [InlineData("logits --model MODEL --tokens 99999", "below vocab_size 512")]
    [InlineData("init-model --preset huge --out /tmp/x", "huge")]
    public void UserErrorsExitNonZeroWithOneLineOnStderr(string commandLine, string expected)
    {
        var args = commandLine.Replace("MODEL", Case("tiny-a")).Split(' ');
        var (code, stdout, stderr) = DsmeshProcess.Run(args);
        Assert.NotEqual(0, code);
        Assert.Contains(expected, stderr);
        Assert.DoesNotContain("   at ", stderr); // no stack trace for a user's mistake
    }
}
