using System.Text.Json.Nodes;

namespace DeepSeekMesh.Tokenizers.Tests;

/// <summary>Writes small synthetic tokenizer directories (valid or deliberately broken) to a temp folder.</summary>
internal sealed class MiniTokenizer : IDisposable
{
    public MiniTokenizer()
    {
        Dir = Scratch.NewDirectory("tok-");
        Directory.CreateDirectory(Dir);
        Json = BuildJson();
        Config = new JsonObject
        {
            ["add_bos_token"] = true,
            ["bos_token"] = new JsonObject { ["__type"] = "AddedToken", ["content"] = "<s>" },
            ["eos_token"] = "</s>",
            ["chat_template"] = "{{ messages }}",
        };
    }

    public string Dir { get; }

    public JsonObject Json { get; }

    public JsonObject Config { get; }

    public string TokenizerPath => Path.Combine(Dir, "tokenizer.json");

    public string ConfigPath => Path.Combine(Dir, "tokenizer_config.json");

    public Tokenizer Load()
    {
        Write();
        return Tokenizer.FromDirectory(Dir);
    }

    public void Write()
    {
        File.WriteAllText(TokenizerPath, Json.ToJsonString());
        File.WriteAllText(ConfigPath, Config.ToJsonString());
    }

    public static JsonObject AddedTokenJson(int id, string content, bool special = true, bool lstrip = false, bool rstrip = false, bool singleWord = false, bool normalized = false) =>
        new()
        {
            ["id"] = id, ["content"] = content, ["single_word"] = singleWord, ["lstrip"] = lstrip,
            ["rstrip"] = rstrip, ["normalized"] = normalized, ["special"] = special,
        };

    private static JsonObject BuildJson()
    {
        var vocab = new JsonObject();
        for (int b = 0; b < 256; b++)
        {
            vocab[ByteLevelAlphabet.ByteToChar((byte)b).ToString()] = b;
        }
        vocab["he"] = 256;
        vocab["ll"] = 257;
        vocab["hell"] = 258;
        vocab["Ġw"] = 259;
        return new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = new JsonArray(AddedTokenJson(300, "<s>"), AddedTokenJson(301, "</s>")),
            ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new JsonArray(
                    new JsonObject
                    {
                        ["type"] = "Split",
                        ["pattern"] = new JsonObject { ["Regex"] = " ?[A-Za-z]+|\\s+|[^\\sA-Za-z]+" },
                        ["behavior"] = "Isolated",
                        ["invert"] = false,
                    },
                    new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = false }),
            },
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel" },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["dropout"] = null,
                ["vocab"] = vocab,
                ["merges"] = new JsonArray("h e", "l l", new JsonArray("he", "ll"), "Ġ w"),
            },
        };
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
