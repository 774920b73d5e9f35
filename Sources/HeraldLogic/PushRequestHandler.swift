import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Answers goim's push endpoints inside an API connection's HTTP pipeline, before Hummingbird's
/// router: one push request is read, checked and published on the connection's event loop, with no
/// task per request when the push can be published without suspending (``PushEndpoints``). Every
/// other request passes on to the router unchanged.
///
/// What was read is taken in order — request parts, and the events and errors between them:
/// - a push request read while the router still owes an earlier answer waits for it, and whatever
///   is read while a push is published by a task waits for that push's answer (reads stop
///   meanwhile, so what waits is bounded by one read);
/// - after a request that asked for `Connection: close`, a parse error, a graceful-shutdown quiesce
///   or the router's end of output, no later request is served (nor published);
/// - the quiesce of a graceful shutdown reaches the router's side only when no push is being read,
///   published or waiting, so an idle-looking connection is never closed before a push's answer.
final class PushRequestHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private struct Push {
        var route: PushEndpoints.Route
        var request: HTTPRequest
        var body = ByteBuffer()
        var tooLarge = false
        /// Set when the request was refused before its body (host, origin, token, rate limit).
        var refusal: APIAnswer?
    }

    /// One thing read, in the order it was read.
    private enum Inbound {
        case part(HTTPRequestPart)
        case event(Any)
        case error(any Error)
    }

    private enum State {
        case idle
        /// A request for the router: its parts go on. `lastRequest`: no request is taken after it.
        case forwarding(lastRequest: Bool)
        /// A push request whose body is being read.
        case reading(Push)
        /// A push being published by a task; its answer is due.
        case publishing
        /// No request is taken any more: the connection is closing (`Connection: close`, a parse
        /// error, a quiesce, the router's end of output, the channel closed). Parts read are dropped.
        case closing
    }

    private let endpoints: PushEndpoints
    private var state = State.idle
    /// Requests passed to the router whose answer has not been written to its end.
    private var routerAnswersDue = 0
    /// What was read while it could not be taken yet, in order.
    private var waiting = CircularBuffer<Inbound>()
    private var readPending = false
    private var quiescePending = false
    /// The router's end of output, held while a push's answer is still to be written.
    private var heldOutputClose: EventLoopPromise<Void>?
    private var holdsOutputClose = false
    private var inactive = false

    init(endpoints: PushEndpoints) {
        self.endpoints = endpoints
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        receive(.part(unwrapInboundIn(data)), context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            quiescePending = true
            quiesceIfDue(context: context)
            return
        }
        receive(.event(event), context: context)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        receive(.error(error), context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        inactive = true
        state = .closing
        waiting.removeAll()
        if holdsOutputClose {
            holdsOutputClose = false
            heldOutputClose?.fail(ChannelError.alreadyClosed)
            heldOutputClose = nil
        }
        context.fireChannelInactive()
    }

    private func receive(_ item: Inbound, context: ChannelHandlerContext) {
        var forwarded = false
        if !(waiting.isEmpty && take(item, context: context, forwarded: &forwarded)) {
            waiting.append(item)
        }
        quiesceIfDue(context: context)
    }

    /// Takes one thing read; false when it must wait (the router owes an earlier answer, or a push
    /// is being published). `forwarded` is set when a request part was passed on.
    private func take(_ item: Inbound, context: ChannelHandlerContext, forwarded: inout Bool) -> Bool {
        switch (state, item) {
        case (.publishing, _):
            return false
        case (.closing, .event(let event)):
            context.fireUserInboundEventTriggered(event)
        case (.closing, _):
            break  // nothing after the connection's last request is served
        case (.idle, .part(.head(let request))):
            if let route = PushEndpoints.Route(request) {
                guard routerAnswersDue == 0 else { return false }
                state = .reading(Push(route: route, request: request, refusal: endpoints.admit(request)))
            } else {
                // Hummingbird serves no request after one that says exactly this.
                routerAnswersDue += 1
                state = .forwarding(lastRequest: request.headerFields[.connection] == "close")
                context.fireChannelRead(wrapInboundOut(.head(request)))
                forwarded = true
            }
        case (.idle, .part(let part)):
            // Not inside a request: the router's side decides what that means.
            context.fireChannelRead(wrapInboundOut(part))
            forwarded = true
        case (.forwarding(let last), .part(let part)):
            context.fireChannelRead(wrapInboundOut(part))
            forwarded = true
            if case .end = part { state = last ? .closing : .idle }
        case (.idle, .event(let event)), (.forwarding, .event(let event)):
            context.fireUserInboundEventTriggered(event)
        case (.idle, .error(let error)), (.forwarding, .error(let error)), (.reading, .error(let error)):
            // A parse error: the router's side answers 400 and ends the connection; a push being
            // read is incomplete and is not published.
            state = .closing
            context.fireErrorCaught(error)
        case (.reading, .event(let event)):
            // The input closed inside a push request: it cannot complete and is not published.
            state = .idle
            context.fireUserInboundEventTriggered(event)
        case (.reading(var push), .part(let part)):
            switch part {
            case .head:
                // The decoder never sends a head inside a request.
                state = .closing
                context.close(promise: nil)
            case .body(var bytes):
                state = .idle  // let `push` hold the only reference to its buffer while it grows
                if !push.tooLarge, push.refusal == nil {
                    if push.body.readableBytes + bytes.readableBytes > endpoints.maxBody {
                        push.tooLarge = true
                        push.body = ByteBuffer()
                    } else if push.body.readableBytes == 0 {
                        push.body = bytes
                    } else {
                        push.body.writeBuffer(&bytes)
                    }
                }
                state = .reading(push)
            case .end:
                state = .idle
                finish(push, context: context)
            }
        }
        return true
    }

    private func finish(_ push: Push, context: ChannelHandlerContext) {
        let close = push.request.headerFields[.connection]?.lowercased().contains("close") ?? false
        if let refusal = push.refusal { return answer(refusal, close: close, context: context) }
        if push.tooLarge { return answer(.failure(MessageTooLarge(limit: endpoints.maxBody)), close: close, context: context) }
        switch endpoints.run(push.route, push.request, body: push.body) {
        case .now(let answer):
            self.answer(answer, close: close, context: context)
        case .later(let publish):
            state = .publishing
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let eventLoop = context.eventLoop
            Task {
                let answer = await publish()
                eventLoop.execute {
                    let (handler, context) = bound.value
                    handler.published(answer, close: close, context: context)
                }
            }
        }
    }

    /// A push published by a task: its answer, then what waited for it.
    private func published(_ answer: APIAnswer, close: Bool, context: ChannelHandlerContext) {
        guard !inactive else { return }
        state = .idle
        self.answer(answer, close: close, context: context)
        if holdsOutputClose {
            holdsOutputClose = false
            state = .closing
            context.close(mode: .output, promise: heldOutputClose)
            heldOutputClose = nil
        }
        resume(context: context)
    }

    private func answer(_ answer: APIAnswer, close: Bool, context: ChannelHandlerContext) {
        var fields = answer.headers
        fields[.contentLength] = String(answer.body.readableBytes)
        fields[.server] = "herald"
        fields[.date] = endpoints.date.now()
        if close { fields[.connection] = "close" }
        context.write(wrapOutboundOut(.head(HTTPResponse(status: answer.status, headerFields: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(answer.body)), promise: nil)
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if close {
            state = .closing
            written.whenComplete { _ in context.close(promise: nil) }
        }
    }

    /// Takes what waited, in order, until something must wait again; then reads on if a read was held.
    private func resume(context: ChannelHandlerContext) {
        var forwarded = false
        while let item = waiting.first, take(item, context: context, forwarded: &forwarded) {
            waiting.removeFirst()
        }
        // Outside a read, the router's side takes what was passed on only at a read's completion.
        if forwarded { context.fireChannelReadComplete() }
        if readPending, waiting.isEmpty, !isPublishing {
            readPending = false
            context.read()
        }
        quiesceIfDue(context: context)
    }

    /// Passes a graceful shutdown's quiesce on once no push is being read, published or waiting:
    /// the router's side, after this handler, would otherwise close a connection that looks idle
    /// to it. After it, no new request is taken.
    private func quiesceIfDue(context: ChannelHandlerContext) {
        guard quiescePending, waiting.isEmpty else { return }
        switch state {
        case .reading, .publishing:
            return
        case .idle, .closing:
            state = .closing
        case .forwarding:
            state = .forwarding(lastRequest: true)
        }
        quiescePending = false
        context.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
    }

    private var isPublishing: Bool {
        if case .publishing = state { return true }
        return false
    }

    // MARK: Outbound

    func read(context: ChannelHandlerContext) {
        guard waiting.isEmpty, !isPublishing else {
            readPending = true
            return
        }
        context.read()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let isEnd: Bool
        if case .end = unwrapOutboundIn(data) { isEnd = true } else { isEnd = false }
        context.write(data, promise: promise)
        guard isEnd else { return }
        // A 400 for a parse error answers no request that was counted.
        if routerAnswersDue > 0 { routerAnswersDue -= 1 }
        if routerAnswersDue == 0, !waiting.isEmpty { resume(context: context) }
        quiesceIfDue(context: context)
    }

    /// The router's side ends its output when it serves no more requests: none is taken after it,
    /// and a push being published is answered first.
    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard mode == .output else { return context.close(mode: mode, promise: promise) }
        if isPublishing {
            holdsOutputClose = true
            heldOutputClose = promise
            return
        }
        state = .closing
        waiting.removeAll()
        context.close(mode: mode, promise: promise)
        // What waited is dropped: reading goes on, so the client's end of the connection is seen.
        if readPending {
            readPending = false
            context.read()
        }
    }
}
