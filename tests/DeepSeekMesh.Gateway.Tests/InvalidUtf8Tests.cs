using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;

namespace DeepSeekMesh.Gateway.Tests;

/// <summary>JSON text must be UTF-8 (RFC 8259): invalid bytes anywhere — a value, a message's content, a key — are a 400, never a 500 or a silently unknown field.</summary>
public sealed class InvalidUtf8Tests(OpenServer server) : IClassFixture<OpenServer>
{
    static byte[] Body(string before, byte[] bad, string after) => [.. Encoding.UTF8.GetBytes(before), .. bad, .. Encoding.UTF8.GetBytes(after)];

    public static TheoryData<string, string, string, string> Cases => new()
    {
        { "/v1/chat/completions", "{\"model\":\"x", "\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":2}", "model value" },
        { "/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi ", "\"}],\"max_tokens\":2}", "message content" },
        { "/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_", "tokens\":2}", "a key" },
        { "/v1/completions", "{\"prompt\":\"", "\",\"max_tokens\":2}", "prompt" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task InvalidUtf8IsA400(string path, string before, string after, string where)
    {
        foreach (var bad in new byte[][] { [0xC3, 0x28], [0xFF], [0xED, 0xA0, 0x80], [0xF0, 0x9F, 0x98] }) // bad continuation, never-valid byte, surrogate, truncated 4-byte sequence
        {
            using var http = server.Client(null);
            var content = new ByteArrayContent(Body(before, bad, after));
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            var response = await http.PostAsync(path, content);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{where} {Convert.ToHexString(bad)}: {(int)response.StatusCode} {text}");
            var error = JsonNode.Parse(text)!["error"]!;
            Assert.Equal("invalid_json", error["code"]!.GetValue<string>());
            Assert.Contains("UTF-8", error["message"]!.GetValue<string>());
        }
        using var ok = server.Client(null);
        Assert.Equal(HttpStatusCode.OK, (await ok.GetAsync("/v1/models")).StatusCode); // and the server keeps serving
    }

    [Fact]
    public async Task InvalidUtf8OnTheWebSocketIsAnErrorMessage()
    {
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new UriBuilder(server.BaseAddress) { Scheme = "ws", Path = "/ws" }.Uri, CancellationToken.None);
        // A binary frame: a text frame with invalid UTF-8 is refused by the WebSocket layer itself.
        await socket.SendAsync(Body("{\"messages\":[{\"role\":\"user\",\"content\":\"", [0xC3, 0x28], "\"}]}"), WebSocketMessageType.Binary, true, CancellationToken.None);
        var buffer = new byte[1 << 16];
        var result = await socket.ReceiveAsync(buffer, new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
        var error = JsonNode.Parse(Encoding.UTF8.GetString(buffer, 0, result.Count))!["error"]!;
        Assert.Equal("invalid_json", error["code"]!.GetValue<string>());
        Assert.Contains("UTF-8", error["message"]!.GetValue<string>());
    }
}
