using System.Text.Json.Serialization;

namespace DeepSeekMesh.Gateway.Protocol;

/// <summary>The API's JSON, source-generated: no reflection at run time. Written through <see cref="Json.WriterOptions"/> (OpenAI's escaping).</summary>
[JsonSourceGenerationOptions(NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(ChatCompletionRequest))]
[JsonSerializable(typeof(CompletionRequest))]
[JsonSerializable(typeof(ChatCompletionChunk))]
[JsonSerializable(typeof(ChatCompletionResponse))]
[JsonSerializable(typeof(CompletionResponse))]
[JsonSerializable(typeof(ChatCompletionDone))]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(Usage))]
public sealed partial class ProtocolJson : JsonSerializerContext;
