using System.Text.Json.Serialization;

namespace DeepSeekMesh.Gateway.Protocol;

/// <summary>The API's JSON, source-generated: no reflection at run time.</summary>
[JsonSourceGenerationOptions(NumberHandling = JsonNumberHandling.Strict, MaxDepth = 64)]
[JsonSerializable(typeof(ChatCompletionRequest))]
[JsonSerializable(typeof(CompletionRequest))]
public sealed partial class ProtocolJson : JsonSerializerContext;
