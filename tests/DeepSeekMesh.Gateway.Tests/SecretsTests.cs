using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DeepSeekMesh.Gateway.Tests;

/// <summary>API keys — in the Authorization header or, for browsers' WebSockets, in the query — never reach a log line or a trace.</summary>
public sealed class SecretsTests(SecuredServer server) : IClassFixture<SecuredServer>, IDisposable
{
    readonly ConcurrentQueue<string> _seen = new();
    ActivityListener? _listener;

    /// <summary>Every log line (formatted, with its state) at every level, and every span (name, tags, events) of the process.</summary>
    void Capture()
    {
        server.App.Services.GetRequiredService<ILoggerFactory>().AddProvider(new SinkProvider(_seen));
        _listener = new ActivityListener
        {
            ShouldListenTo = _ => true,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a => _seen.Enqueue(string.Join(" ", [a.DisplayName, a.OperationName, .. a.TagObjects.Select(t => $"{t.Key}={t.Value}"),
                .. a.Events.SelectMany(e => e.Tags.Select(t => $"{e.Name}:{t.Key}={t.Value}")), .. a.Baggage.Select(b => $"{b.Key}={b.Value}")])),
        };
        ActivitySource.AddActivityListener(_listener);
    }

    [Fact]
    public async Task KeysAppearInNoLogAndNoTrace()
    {
        Capture();
        using (var http = server.Client(SecuredServer.Key3))
            Assert.True((await http.PostAsync("/v1/chat/completions",
                new StringContent("""{"messages":[{"role":"user","content":"Hi"}],"max_tokens":2}""", Encoding.UTF8, "application/json"))).IsSuccessStatusCode);
        using (var wrong = server.Client("sk-secret-but-wrong"))
            await wrong.GetAsync("/v1/models");
        using (var socket = new ClientWebSocket())
        {
            var uri = new UriBuilder(server.BaseAddress) { Scheme = "ws", Path = "/ws", Query = $"api_key={SecuredServer.Key3}" }.Uri;
            await socket.ConnectAsync(uri, CancellationToken.None);
            await socket.SendAsync(Encoding.UTF8.GetBytes("""{"messages":[{"role":"user","content":"Hi"}],"max_tokens":2}"""), WebSocketMessageType.Text, true, CancellationToken.None);
            var buffer = new byte[1 << 16];
            string last;
            do
            {
                var result = await socket.ReceiveAsync(buffer, new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
                last = Encoding.UTF8.GetString(buffer, 0, result.Count);
            } while (!last.Contains("chat.completion.done") && !last.Contains("\"error\""));
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        }
        await Task.Delay(500); // spans stop after the response
        Assert.NotEmpty(_seen);
        Assert.Contains(_seen, s => s.Contains("/ws", StringComparison.Ordinal) || s.Contains("chat", StringComparison.OrdinalIgnoreCase));
        foreach (var secret in new[] { SecuredServer.Key3, "sk-secret-but-wrong" })
            Assert.DoesNotContain(_seen, s => s.Contains(secret, StringComparison.Ordinal));
    }

    public void Dispose() => _listener?.Dispose();

    sealed class SinkProvider(ConcurrentQueue<string> seen) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Sink(categoryName, seen);
        public void Dispose() { }
    }

    sealed class Sink(string category, ConcurrentQueue<string> seen) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull
        {
            seen.Enqueue($"{category} scope {state}");
            return null;
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            seen.Enqueue($"{category} {logLevel} {formatter(state, exception)} {state} {exception}");
    }
}
