using DeepSeekMesh.Gateway.Protocol;
using Microsoft.AspNetCore.Http;

namespace DeepSeekMesh.Gateway;

/// <summary>Error responses.</summary>
public static class ApiErrors
{
    /// <summary>Writes an error response (status, Retry-After, JSON body) if the response has not started.</summary>
    public static async Task WriteAsync(HttpContext context, ApiException error)
    {
        if (context.Response.HasStarted) return;
        context.Response.Clear();
        context.Response.StatusCode = error.Status;
        if (error.RetryAfterSeconds is { } seconds) context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(Json.Bytes(error.ToResponse(), ProtocolJson.Default.ErrorResponse), context.RequestAborted);
    }
}
