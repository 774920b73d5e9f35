import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Answers goim's push endpoints inside an API connection's HTTP pipeline, before Hummingbird's
/// router: one push request is read, checked and published on the connection's event loop, with no
/// task per request when the push can be published without suspending (``PushEndpoints``). Every
/// other request passes on to the router unchanged.
///
/// Answers keep the order of the requests on a connection: a push request read while the router
/// still owes an earlier answer waits for it, and requests read while a push is being published by
/// a task wait for that push's answer (reads stop meanwhile, so what waits is bounded).
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

    private enum State {
        case idle
        /// A request for the router: its parts go on.
        case forwarding
        /// A push request whose body is being read.
        case reading(Push)
        /// A push being published by a task; its answer is due.
        case publishing
    }

    private let endpoints: PushEndpoints
    private var state = State.idle
    /// Requests passed to the router whose answer has not been written to its end.
    private var routerAnswersDue = 0
    /// Parts read while they could not be taken yet, in order.
    private var waiting = CircularBuffer<HTTPRequestPart>()
    private var readPending = false
    private var quiescePending = false

    init(endpoints: PushEndpoints) {
        self.endpoints = endpoints
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        var forwarded = false
        guard waiting.isEmpty, take(part, context: context, forwarded: &forwarded) else {
            waiting.append(part)
            return
        }
    }

    /// Takes one part; false when it must wait (the router owes an earlier answer, or a push is
    /// being published).
    private func take(_ part: HTTPRequestPart, context: ChannelHandlerContext, forwarded: inout Bool) -> Bool {
        switch state {
        case .publishing:
            return false
        case .idle:
            guard case .head(let request) = part, let route = PushEndpoints.Route(request) else {
                if case .head = part {
                    routerAnswersDue += 1
                    state = .forwarding
                }
                context.fireChannelRead(wrapInboundOut(part))
                forwarded = true
                return true
            }
            guard routerAnswersDue == 0 else { return false }
            state = .reading(Push(route: route, request: request, refusal: endpoints.admit(request)))
        case .forwarding:
            if case .end = part { state = .idle }
            context.fireChannelRead(wrapInboundOut(part))
            forwarded = true
        case .reading(var push):
            switch part {
            case .head:
                // The decoder never sends a head inside a request.
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
                    handler.state = .idle
                    handler.answer(answer, close: close, context: context)
                    handler.resume(context: context)
                }
            }
        }
    }

    private func answer(_ answer: APIAnswer, close: Bool, context: ChannelHandlerContext) {
        var fields = answer.headers
        fields[.contentLength] = String(answer.body.readableBytes)
        fields[.server] = "herald"
        if close { fields[.connection] = "close" }
        context.write(wrapOutboundOut(.head(HTTPResponse(status: answer.status, headerFields: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(answer.body)), promise: nil)
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if close {
            written.whenComplete { _ in context.close(promise: nil) }
        } else if quiescePending, case .idle = state, routerAnswersDue == 0, waiting.isEmpty {
            quiescePending = false
            context.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
    }

    /// Takes what waited, in order, until something must wait again; then reads on if a read was held.
    private func resume(context: ChannelHandlerContext) {
        var forwarded = false
        while let part = waiting.first, take(part, context: context, forwarded: &forwarded) {
            waiting.removeFirst()
        }
        // Outside a read, the router's side takes what was passed on only at a read's completion.
        if forwarded { context.fireChannelReadComplete() }
        if readPending, waiting.isEmpty, !isPublishing {
            readPending = false
            context.read()
        }
    }

    private var isPublishing: Bool {
        if case .publishing = state { return true }
        return false
    }

    func read(context: ChannelHandlerContext) {
        guard waiting.isEmpty, !isPublishing else {
            readPending = true
            return
        }
        context.read()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        context.write(data, promise: promise)
        guard case .end = unwrapOutboundIn(data) else { return }
        routerAnswersDue -= 1
        if routerAnswersDue == 0, !waiting.isEmpty { resume(context: context) }
    }

    /// A graceful shutdown closes idle connections: the router's handler after this one cannot see
    /// a push being answered here, so the event waits for that answer.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            switch state {
            case .reading, .publishing:
                quiescePending = true
                return
            case .idle, .forwarding:
                break
            }
        }
        context.fireUserInboundEventTriggered(event)
    }
}
