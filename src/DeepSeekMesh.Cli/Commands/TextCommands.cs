using System.CommandLine;
using System.Text.Json;
using DeepSeekMesh.Text;

namespace DeepSeekMesh.Cli.Commands;

/// <summary><c>tokenize</c>, <c>detokenize</c> and <c>chat-template</c>: the text boundary on its own.</summary>
public static class TextCommands
{
    static Option<DirectoryInfo> TokenizerDir() => new("--tokenizer")
    {
        Description = "directory with tokenizer.json and tokenizer_config.json",
        Required = true,
    };

    public static Command Tokenize()
    {
        var tokenizer = TokenizerDir();
        var text = new Option<string?>("--text") { Description = "the text to encode" };
        var textFile = new Option<FileInfo?>("--text-file") { Description = "one JSON string per line; prints one JSON array per line" };
        var addBos = new Option<bool>("--add-bos") { Description = "prepend the BOS token" };
        var command = new Command("tokenize", "Print the token ids of a text as a JSON array") { tokenizer, text, textFile, addBos };
        command.SetAction(parse =>
        {
            var codec = TextCodec.FromDirectory(parse.GetValue(tokenizer)!.FullName);
            bool bos = parse.GetValue(addBos);
            if (parse.GetValue(text) is { } single)
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(codec.Tokenizer.Encode(single, bos)));
                return 0;
            }
            var file = parse.GetValue(textFile) ?? throw new UsageException("give --text or --text-file");
            foreach (var line in File.ReadLines(file.FullName).Where(l => l.Length > 0))
            {
                var value = JsonSerializer.Deserialize<string>(line) ?? throw new UsageException($"{file.Name}: each line must be a JSON string");
                Console.Out.WriteLine(JsonSerializer.Serialize(codec.Tokenizer.Encode(value, bos)));
            }
            return 0;
        });
        return command;
    }

    public static Command Detokenize()
    {
        var tokenizer = TokenizerDir();
        var ids = new Option<string>("--ids") { Description = "token ids, comma-separated", Required = true };
        var skipSpecial = new Option<bool>("--skip-special-tokens") { Description = "leave special tokens out of the text" };
        var command = new Command("detokenize", "Print the text of token ids") { tokenizer, ids, skipSpecial };
        command.SetAction(parse =>
        {
            var codec = TextCodec.FromDirectory(parse.GetValue(tokenizer)!.FullName);
            Console.Out.Write(codec.Tokenizer.Decode(CliOptions.ParseTokens(parse.GetValue(ids)!), parse.GetValue(skipSpecial)));
            return 0;
        });
        return command;
    }

    public static Command ChatTemplate()
    {
        var tokenizer = TokenizerDir();
        var messages = new Option<FileInfo>("--messages") { Description = "JSON file: an array of OpenAI-style chat messages", Required = true };
        var generationPrompt = new Option<bool>("--add-generation-prompt") { Description = "end with the assistant's turn opener" };
        var command = new Command("chat-template", "Render chat messages with the tokenizer's chat template") { tokenizer, messages, generationPrompt };
        command.SetAction(parse =>
        {
            var codec = TextCodec.FromDirectory(parse.GetValue(tokenizer)!.FullName);
            using var doc = JsonDocument.Parse(File.ReadAllBytes(parse.GetValue(messages)!.FullName));
            var root = doc.RootElement;
            var list = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("messages", out var m) ? m : root;
            Console.Out.Write(codec.RenderChat(ChatMessagesJson.Parse(list), parse.GetValue(generationPrompt)));
            return 0;
        });
        return command;
    }
}
