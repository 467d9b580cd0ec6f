using System.Text.Json;

namespace DeepSeekMesh.Gateway.Protocol;

/// <summary>The completions <c>prompt</c>: a string, a list of strings, a list of token ids, or a list of lists of token ids.</summary>
sealed class PromptReader(ServedModel model)
{
    const string Expected = "a string, an array of strings, an array of token ids or an array of arrays of token ids";

    public List<PromptInput> Read(JsonElement p)
    {
        switch (p.ValueKind)
        {
            case JsonValueKind.String:
                return [FromText(p.GetString()!)];
            case JsonValueKind.Array when p.GetArrayLength() == 0:
                throw ApiException.BadRequest("The prompt is empty.", "prompt", "invalid_value");
            case JsonValueKind.Array:
                var first = p[0].ValueKind;
                if (first == JsonValueKind.Number) return [FromIds(p)];
                var prompts = new List<PromptInput>();
                foreach (var e in p.EnumerateArray())
                {
                    if (e.ValueKind != first) throw ApiException.InvalidType("prompt", first == JsonValueKind.String ? "an array of strings" : "an array of arrays of token ids", e);
                    prompts.Add(e.ValueKind switch
                    {
                        JsonValueKind.String => FromText(e.GetString()!),
                        JsonValueKind.Array => FromIds(e),
                        _ => throw ApiException.InvalidType("prompt", Expected, e),
                    });
                }
                return prompts;
            default:
                throw ApiException.InvalidType("prompt", Expected, p);
        }
    }

    PromptInput FromText(string text) => new(model.Codec.EncodePrompt(text), text);

    PromptInput FromIds(JsonElement list)
    {
        var ids = new int[list.GetArrayLength()];
        int i = 0;
        foreach (var e in list.EnumerateArray())
        {
            int id = e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var v) ? v : throw ApiException.InvalidType("prompt", Expected, e);
            if (id < 0 || id >= model.VocabSize)
                throw ApiException.BadRequest($"Token id {id} in 'prompt' is out of vocabulary (valid: 0 to {model.VocabSize - 1}).", "prompt", "invalid_value");
            ids[i++] = id;
        }
        return new PromptInput(ids, model.Codec.Tokenizer.Decode(ids));
    }
}
