using System.Collections.Concurrent;
using DeepSeekMesh.Contracts.Placement;
using DeepSeekMesh.Model.Layers;

namespace DeepSeekMesh.Silo.Experts;

/// <summary>
/// The routed experts whose grains are active on this silo, with their weights: an expert grain lends
/// its <see cref="Mlp"/> on activation and takes it back on deactivation; the silo's dispatcher
/// computes with the weights it finds here. A weight taken back while a computation holds it is
/// disposed when that computation releases it.
/// </summary>
public sealed class LocalExperts
{
    readonly ConcurrentDictionary<ExpertReplica, Held> _experts = new();

    /// <summary>The replicas hosted here.</summary>
    public IReadOnlyCollection<ExpertReplica> Hosted => _experts.Keys.ToArray();

    public int Count => _experts.Count;

    /// <summary>Resident bytes of the hosted experts' weights.</summary>
    public long Bytes => _experts.Values.Sum(h => h.Bytes);

    public void Add(ExpertReplica replica, Mlp weights)
    {
        var held = new Held(weights);
        if (!_experts.TryAdd(replica, held))
        {
            held.Retire();
            throw new InvalidOperationException($"expert {replica} is already hosted on this silo");
        }
    }

    /// <summary>Takes the weights back; they are disposed once no computation holds them.</summary>
    public void Remove(ExpertReplica replica)
    {
        if (_experts.TryRemove(replica, out var held)) held.Retire();
    }

    /// <summary>The weights of <paramref name="replica"/> held for one computation (dispose the lease after), or null when it is not here.</summary>
    public Lease? TryAcquire(ExpertReplica replica) =>
        _experts.TryGetValue(replica, out var held) && held.TryAcquire() ? new Lease(held) : null;

    /// <summary>A hold on one expert's weights for the length of a computation.</summary>
    public sealed class Lease : IDisposable
    {
        Held? _held;

        internal Lease(Held held) => _held = held;

        public Mlp Weights => _held?.Weights ?? throw new ObjectDisposedException(nameof(Lease));

        public void Dispose() => Interlocked.Exchange(ref _held, null)?.Release();
    }

    internal sealed class Held(Mlp weights)
    {
        readonly Lock _lock = new();
        int _references = 1; // the grain's own
        bool _retired;

        public Mlp Weights => weights;
        public long Bytes { get; } = weights.ParameterBytes;

        public bool TryAcquire()
        {
            lock (_lock)
            {
                if (_retired) return false;
                _references++;
                return true;
            }
        }

        public void Release()
        {
            bool last;
            lock (_lock) last = --_references == 0;
            if (last) weights.Dispose();
        }

        public void Retire()
        {
            lock (_lock)
            {
                if (_retired) return;
                _retired = true;
            }
            Release();
        }
    }
}
