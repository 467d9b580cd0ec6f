using System.Text.Json;
using DeepSeekMesh.Gateway.Protocol;

namespace DeepSeekMesh.Gateway;

/// <summary>
/// An error the API reports to its client as OpenAI does: an HTTP status and
/// <c>{"error":{"message","type","param","code"}}</c>. Thrown anywhere in a request; the error
/// middleware writes it (or, once a stream has started, the stream writes it as an event).
/// </summary>
public sealed class ApiException(int status, string message, string type = ApiException.InvalidRequest, string? param = null, string? code = null)
    : Exception(message)
{
    public const string InvalidRequest = "invalid_request_error";

    public int Status { get; } = status;
    public string Type { get; } = type;
    public string? Param { get; } = param;
    public string? Code { get; } = code;
    /// <summary>Seconds for a Retry-After header (429/503), if any.</summary>
    public int? RetryAfterSeconds { get; init; }

    public static ApiException BadRequest(string message, string? param = null, string? code = null) => new(400, message, InvalidRequest, param, code);

    public static ApiException InvalidType(string param, string expected, JsonElement got) =>
        BadRequest($"Invalid type for '{param}': expected {expected}, but got {Describe(got)} instead.", param, "invalid_type");

    public static ApiException ModelNotFound(string model) =>
        new(404, $"The model `{model}` does not exist.", InvalidRequest, "model", "model_not_found");

    static string Describe(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        JsonValueKind.Null => "null",
        _ => "an unknown value",
    };

    /// <summary>OpenAI's error body.</summary>
    public ErrorResponse ToResponse() => new(new ErrorInfo(Message, Type, Param, Code));
}
