import ArgumentParser
import HeraldQueueZeroMQ

/// `herald zeromq-keygen`: a CURVE key pair for `[queue.zeromq]`.
struct ZeroMQKeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zeromq-keygen",
        abstract: "Print a new CURVE key pair for the zeromq queue (Z85).",
        discussion: """
            Put the secret key in this process's [queue.zeromq] curve_secret_key; give the public key to the \
            other side: the job's goes in each logic's curve_server_key, each logic's in the job's curve_clients.
            """
    )

    func run() throws {
        guard let pair = ZeroMQCurve.keypair() else { throw ValidationError("libzmq was built without CURVE support") }
        print("public_key = \"\(pair.publicKey)\"")
        print("secret_key = \"\(pair.secretKey)\"")
    }
}
